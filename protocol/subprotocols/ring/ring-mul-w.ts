/**
 * MulW over Z_2^64 (protocol.md, "MulW"), for the `ring64` profile.
 *
 * Setup (per pairing): U uniform over the ring from the pairing key (P0, P2); P1 holds X − U
 * (ring elements, 8 bytes per parameter); P0 keeps X as int16 (model/fixed-point).
 * Offline: V from k12 (or V = B′ after an Elem), W0 uniform from k02; P2 sends
 *   W1 = f(U, V) − W0 to P1; P1 sets C1 = f(X − U, V) + W1 = f(X, V) − W0.
 * Online: P1 sends D = y1 − V (nothing when V = B′); P0 sets z0 = f(X, y0 + D) + W0 + bias.
 * Post: z0 + z1 = f(X, y) + bias exactly (mod 2^64); the output's exponents are the input's
 * plus the weight block's (no truncation). Every message is a ring element plus a fresh
 * uniform mask: uniform whatever the data.
 * Products: byte limbs into exact int32 GEMMs (compute/ring-gemm.ts, ringLinearPlanar): P0 ring ×
 * int16 in 2 calls, P1 and P2 ring × ring in 8 (36 byte-limb pairs).
 * Ahead: P1's product f(X − U, V) depends only on offline data, so with `ctx.productsAhead` the
 * gateway takes it from the products made ahead (protocol/pool/products-ahead.ts) when one was
 * made for exactly this call and V, and makes it online otherwise; the result is the same.
 */
import { ringLinearPlanar, type PlanarWeight } from '../../../compute/ring-gemm.js';
import { ringAdd, ringAddInto, ringSub, type Ring } from '../../../compute/ring64.js';
import type { WeightBlock } from '../../../model/fixed-point/fixed-point-weights.js';
import { addBiasRows, ringBias } from '../../../plaintext/fixed-point/ring-tensors.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

/** The public part of a ring64 weight. */
export interface RingWeightSpec {
  name: string;
  outDim: number;
  inDim: number;
  blocks: WeightBlock[];
  hasBias: boolean;
}

/**
 * A weight as one party holds it, in the planar byte-limb form the exact int32 GEMMs read
 * (compute/ring-gemm.ts): X as int16 planes (2 bytes per parameter) with bias at P0, X − U at P1
 * and U at P2 as ring planes (8 bytes per parameter).
 */
export interface RingRoleWeight {
  spec: RingWeightSpec;
  data: PlanarWeight;
  bias?: Float64Array;
}

function ringData(w: RingRoleWeight, role: string): PlanarWeight {
  if (w.data.kind !== 'ring') throw new Error(`${role}: weight ${w.spec.name} is not a ring matrix`);
  return w.data;
}

/** The weight data P0 multiplies with: X as int16 planes. */
export function engineData(w: RingRoleWeight): PlanarWeight {
  if (w.data.kind !== 'int16') throw new Error(`engine: weight ${w.spec.name} is not int16`);
  return w.data;
}

/** The weight data this party multiplies with: X at P0, X − U at P1, U at P2. */
export function roleData(w: RingRoleWeight, role: string): PlanarWeight {
  return role === 'engine' ? engineData(w) : ringData(w, role);
}

/**
 * A linear map as MulW can make it for any number of rows: `key` is its identity (the weight
 * object: same key, same map), `inDim` its input width per row. What lets the gateway make the
 * product of a later step ahead (protocol/pool/products-ahead.ts).
 */
export interface RowwiseMap {
  key: object;
  rows: number;
  inDim: number;
  product(x: Ring, rows: number): Promise<Ring>;
}

/**
 * MulW's messages for a linear map f given as `product(x)` = f(this party's weight data, x): one
 * weight (ringMulW) or a group of weights over column groups (ring-mul-w-grouped.ts). P0's result
 * is f(X, y0 + D) + W0, without bias (ringMulW adds it). `rowwise`: the same map for any number
 * of rows, so the gateway may use a product made ahead (absent: always online).
 */
export async function ringMulWWith(ctx: PartyContext, y: RingShared, inSize: number, outSize: number, name: string, product: (x: Ring) => Promise<Ring>, rowwise?: RowwiseMap): Promise<RingShared> {
  const step = nextStep(ctx);
  if (y.size !== inSize) throw new RangeError(`ringMulW ${name}: input has ${y.size} elements, expected ${inSize}`);
  const reuse = ctx.reuseElemMask === false ? undefined : y.meta.p1Mask;
  const vLabel = reuse ?? `${step}/V`;
  const out: RingShared = { meta: { offlineKnown: true }, share: undefined, size: outSize };
  switch (ctx.role) {
    case 'dealer': {
      const V = ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), inSize, ctx.profile.ringMaskBits);
      const W0 = ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, ctx.profile.ringMaskBits);
      const W1 = ringSub(await product(V), W0);
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [W1], true);
      await ctx.net.flush();
      return out;
    }
    case 'gateway': {
      const y1 = requireRingShare(y, ctx.role);
      const V = reuse ? y1 : ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), inSize, ctx.profile.ringMaskBits);
      if (!reuse) {
        ctx.net.send('engine', MessageKind.MulWInput, step, [ringSub(y1, V)], y.meta.offlineKnown);
        ctx.ringViewTap?.(step, 'mulw-input', V);
      }
      const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.MulWCorrection, step), [outSize], `mulW ${name} correction`);
      out.share = ringAddInto(await gatewayProduct(ctx, step, vLabel, V, product, rowwise), W1!);
      return out;
    }
    case 'engine': {
      let input = requireRingShare(y, ctx.role);
      if (!reuse) {
        const [D] = expectRings(await ctx.net.receive('gateway', MessageKind.MulWInput, step), [inSize], `mulW ${name} input`);
        input = ringAdd(input, D!); // y − V
        ctx.ringViewTap?.(step, 'mulw-input', input);
      }
      const W0 = ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, ctx.profile.ringMaskBits);
      out.share = ringAddInto(await product(input), W0);
      return out;
    }
  }
}

/**
 * The gateway's f(X − U, V): made ahead if the pool holds it for this very call and V, else now.
 * Every call is recorded (the template of the next pass's products).
 */
async function gatewayProduct(ctx: PartyContext, step: number, vLabel: string, V: Ring, product: (x: Ring) => Promise<Ring>, rowwise: RowwiseMap | undefined): Promise<Ring> {
  const pool = ctx.productsAhead;
  if (!pool || !rowwise) return product(V);
  const k12 = requireKey(ctx.k12, 'k12', ctx.role);
  const bits = ctx.profile.ringMaskBits;
  const { key, rows, inDim } = rowwise;
  pool.record({ step, vLabel, key, rows, drawV: (label, r) => ringMask(k12.prg(label), r * inDim, bits), product: (v, r) => rowwise.product(v as Ring, r) });
  const ahead = await pool.take({ step, vLabel, key, rows }, V);
  return ahead instanceof BigUint64Array ? ahead : product(V);
}

/** `inExp`: the input's exponent (where P0 encodes the bias). */
export async function ringMulW(ctx: PartyContext, w: RingRoleWeight, y: RingShared, rows: number, inExp: number): Promise<RingShared> {
  const { outDim, inDim, name } = w.spec;
  const data = roleData(w, ctx.role);
  const rowwise: RowwiseMap = { key: w, rows, inDim, product: (x, r) => ringLinearPlanar(ctx.backend, x, r, data, outDim, inDim) };
  const out = await ringMulWWith(ctx, y, rows * inDim, rows * outDim, name, (x) => rowwise.product(x, rows), rowwise);
  if (ctx.role === 'engine' && w.bias) addBiasRows(out.share!, rows, ringBias(w.bias, w.spec.blocks, inExp));
  return out;
}
