/**
 * MulW: a linear layer with a weight X known to P0 (protocol.md, "MulW").
 *
 * Setup (per pairing): U from the pairing key (P0, P2); P1 holds X − U.
 * Offline (per call): V from k12, W0 from k02; P2 sends W1 = f(U, V) − W0 to P1;
 *   P1 sets C1 = f(X − U, V) + W1 = f(X, V) − W0.
 * Online: P1 sends D = y1 − V; P0 sets z0 = f(X, y0 + D) + W0 + bias; P1 sets z1 = C1.
 *
 * Optimisation: when P1's share of y is an Elem's output mask B′ (`meta.p1Mask`), the dealer
 * uses V = B′, so D = 0 and nothing is sent online.
 * Post: z0 + z1 = f(X, y0 + y1) + bias, P1's share known offline.
 * Ahead: with `ctx.productsAhead` the gateway takes f(X − U, V) from the products made ahead
 * (protocol/pool/products-ahead.ts) when one was made for exactly this call and V (the same
 * deterministic product), and makes it online otherwise.
 */
import { dataMaskWidth, drawMask, roundToDtype, type TensorFamily } from '../masks/mask-profile.js';
import type { WeightSpec } from '../model/private-weights.js';
import { MessageKind } from '../wire/frame.js';
import { addInto, nextStep, requireKey, requireShare, subArrays, type PartyContext, type Shared } from '../session/party-context.js';
import { applyWeight } from './bilinear.js';

/** A weight as one party holds it: X at P0 (with bias), X − U at P1, U at P2. */
export interface RoleWeight {
  spec: WeightSpec;
  data: Float64Array;
  bias?: Float64Array;
}

export async function mulW(ctx: PartyContext, w: RoleWeight, y: Shared, rows: number, outFamily: TensorFamily): Promise<Shared> {
  const step = nextStep(ctx);
  const { profile, backend } = ctx;
  const inSize = rows * w.spec.inDim;
  const outSize = rows * w.spec.outDim;
  if (y.size !== inSize) throw new RangeError(`mulW ${w.spec.name}: input has ${y.size} elements, expected ${inSize}`);
  const reuse = ctx.reuseElemMask === false ? undefined : y.meta.p1Mask;
  const vWidth = reuse?.width ?? dataMaskWidth(profile, y.meta.family);
  const vLabel = reuse?.label ?? `${step}/V`;
  const w0Width = profile.productFactor * profile.weightRatio * w.spec.scale * vWidth * Math.sqrt(w.spec.inDim);
  const out: Shared = { meta: { family: outFamily, offlineKnown: true }, share: undefined, size: outSize };

  switch (ctx.role) {
    case 'dealer': {
      const V = drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), inSize, vWidth);
      const W0 = drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, w0Width);
      const W1 = subArrays(await applyWeight(backend, w.spec, w.data, V, rows), W0);
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [roundToDtype(profile, W1)], true);
      await ctx.net.flush(); // the dealer streams each step's material as soon as it exists
      return out;
    }
    case 'gateway': {
      const y1 = requireShare(y, ctx.role);
      const V = reuse ? y1 : drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), inSize, vWidth);
      if (!reuse) ctx.net.send('engine', MessageKind.MulWInput, step, [roundToDtype(profile, subArrays(y1, V))], y.meta.offlineKnown);
      const [W1] = await ctx.net.receive('dealer', MessageKind.MulWCorrection, step);
      if (!(W1 instanceof Float64Array) || W1.length !== outSize) throw new Error(`mulW ${w.spec.name}: bad correction from the dealer`);
      const product = (v: Float64Array, r: number) => applyWeight(backend, w.spec, w.data, v, r);
      let fV: Float64Array | undefined;
      const pool = ctx.productsAhead;
      if (pool) {
        const k12 = requireKey(ctx.k12, 'k12', ctx.role);
        pool.record({ step, vLabel, key: w, rows, drawV: (label, r) => drawMask(profile, k12.prg(label), r * w.spec.inDim, vWidth), product: (v, r) => product(v as Float64Array, r) });
        const ahead = await pool.take({ step, vLabel, key: w, rows }, V);
        if (ahead instanceof Float64Array) fV = ahead;
      }
      out.share = roundToDtype(profile, addInto(fV ?? (await product(V, rows)), W1));
      ctx.observe?.({ op: 'mulW', step, weight: w.spec.name, rows, input: y, output: out });
      return out;
    }
    case 'engine': {
      let input = requireShare(y, ctx.role);
      if (!reuse) {
        const [D] = await ctx.net.receive('gateway', MessageKind.MulWInput, step);
        if (!(D instanceof Float64Array) || D.length !== inSize) throw new Error(`mulW ${w.spec.name}: bad input from the gateway`);
        input = addInto(Float64Array.from(input), D);
      }
      const W0 = drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, w0Width);
      const z0 = addInto(await applyWeight(backend, w.spec, w.data, input, rows), W0);
      if (w.bias) {
        for (let r = 0; r < rows; r++) for (let j = 0; j < w.spec.outDim; j++) z0[r * w.spec.outDim + j]! += w.bias[j]!;
      }
      out.share = roundToDtype(profile, z0);
      ctx.observe?.({ op: 'mulW', step, weight: w.spec.name, rows, input: y, output: out });
      return out;
    }
  }
}
