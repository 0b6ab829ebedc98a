/**
 * Grouped MulW over Z_2^64: G weights X_g [outG, inG] applied to the G column groups of one
 * shared input y [rows, G·inG], z[:, g·outG..] = f(X_g, y[:, g·inG..]); the experts' down
 * projections of a mixture-of-experts FFN (every expert on every token, protocol/schedule/ring-moe-ffn.ts). The messages are ringMulW's (ring-mul-w.ts) over the whole input: one mask V for
 * all groups (V = B′ after an Elem: nothing sent online), W0 from k02, P2 sends W1 = f(U, V) − W0.
 * Every weight has its own U (its own pairing mask), so the correctness and uniformity arguments
 * are those of MulW, group by group.
 */
import type { ComputeBackend } from '../../../compute/compute-backend.js';
import { ringLinearPlanar, type PlanarWeight } from '../../../compute/ring-gemm.js';
import { ringAdd, ringAddInto, ringSub, type Ring } from '../../../compute/ring64.js';
import { ringPlaceColumns } from '../../../plaintext/fixed-point/ring-moe.js';
import { ringColumns } from '../../../plaintext/fixed-point/ring-tensors.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import type { RingRoleWeight } from './ring-mul-w.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

function groupShape(ws: readonly RingRoleWeight[]): { outG: number; inG: number } {
  const first = ws[0];
  if (!first) throw new RangeError('grouped MulW: no weights');
  const { outDim: outG, inDim: inG } = first.spec;
  for (const w of ws) {
    if (w.spec.outDim !== outG || w.spec.inDim !== inG) throw new RangeError(`grouped MulW: ${w.spec.name} is ${w.spec.outDim}x${w.spec.inDim}, not ${outG}x${inG}`);
    if (w.spec.hasBias) throw new RangeError(`grouped MulW: ${w.spec.name} has a bias (not supported)`);
  }
  return { outG, inG };
}

async function groupedLinear(backend: ComputeBackend, x: Ring, rows: number, data: readonly PlanarWeight[], outG: number, inG: number): Promise<Ring> {
  const G = data.length;
  const out = new BigUint64Array(rows * G * outG);
  for (let g = 0; g < G; g++) ringPlaceColumns(out, await ringLinearPlanar(backend, ringColumns(x, rows, G * inG, g * inG, inG), rows, data[g]!, outG, inG), rows, G * outG, g * outG, outG);
  return out;
}

export async function ringMulWGrouped(ctx: PartyContext, ws: readonly RingRoleWeight[], y: RingShared, rows: number): Promise<RingShared> {
  const step = nextStep(ctx);
  const { backend } = ctx;
  const { outG, inG } = groupShape(ws);
  const G = ws.length;
  const inSize = rows * G * inG;
  const outSize = rows * G * outG;
  if (y.size !== inSize) throw new RangeError(`grouped MulW: input has ${y.size} elements, expected ${inSize}`);
  const reuse = ctx.reuseElemMask === false ? undefined : y.meta.p1Mask;
  const vLabel = reuse ?? `${step}/V`;
  const out: RingShared = { meta: { offlineKnown: true }, share: undefined, size: outSize };
  const ringData = (w: RingRoleWeight) => {
    if (w.data.kind !== 'ring') throw new Error(`${ctx.role}: weight ${w.spec.name} is not a ring matrix`);
    return w.data;
  };
  switch (ctx.role) {
    case 'dealer': {
      const V = ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), inSize, ctx.profile.ringMaskBits);
      const W0 = ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, ctx.profile.ringMaskBits);
      const W1 = ringSub(await groupedLinear(backend, V, rows, ws.map(ringData), outG, inG), W0);
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
      const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.MulWCorrection, step), [outSize], 'grouped mulW correction');
      out.share = ringAddInto(await groupedLinear(backend, V, rows, ws.map(ringData), outG, inG), W1!);
      return out;
    }
    case 'engine': {
      let input = requireRingShare(y, ctx.role);
      if (!reuse) {
        const [D] = expectRings(await ctx.net.receive('gateway', MessageKind.MulWInput, step), [inSize], 'grouped mulW input');
        input = ringAdd(input, D!);
        ctx.ringViewTap?.(step, 'mulw-input', input);
      }
      const data = ws.map((w) => {
        if (w.data.kind !== 'int16') throw new Error(`engine: weight ${w.spec.name} is not int16`);
        return w.data;
      });
      const W0 = ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), outSize, ctx.profile.ringMaskBits);
      out.share = ringAddInto(await groupedLinear(backend, input, rows, data, outG, inG), W0);
      return out;
    }
  }
}
