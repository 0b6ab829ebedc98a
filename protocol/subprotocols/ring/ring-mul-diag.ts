/**
 * MulW with a diagonal weight over Z_2^64 (protocol.md, "MulW", with f(X, y) = y ⊙ X on every
 * row): the engine's secret vector X (an RMSNorm γ it cannot fold into a matrix) applied to a
 * shared input, for the `ring64` profile. The weight is stored like any matrix, [n, 1]
 * (int16 at P0, X − U at P1, U at P2 from the pairing key), so the masked-model pipeline carries it.
 *
 * Offline: V from k12 (or V = B′ after an Elem: then nothing goes online), W0 from k02; P2 sends
 *   W1 = U ⊙ V − W0 to P1, who sets z1 = (X − U) ⊙ V + W1 = X ⊙ V − W0.
 * Online: P1 sends D = y1 − V (none when V = B′); P0 sets z0 = X ⊙ (y0 + D) + W0.
 * Post: z0 + z1 = X ⊙ y exactly. Every message is uniform whatever the data; γ never leaves P0.
 */
import { unplanar } from '../../../compute/ring-gemm.js';
import { ringAdd, ringAddInto, ringSub, type Ring } from '../../../compute/ring64.js';
import { ringDiagonal } from '../../../plaintext/fixed-point/ring-diagonal.js';
import { ringMask } from '../../masks/ring-masks.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import type { RingRoleWeight } from './ring-mul-w.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';

const vectors = new WeakMap<RingRoleWeight, Int16Array | Ring>();

/** The weight as a vector (unplanar once per weight, cached). */
function vectorOf(w: RingRoleWeight): Int16Array | Ring {
  let v = vectors.get(w);
  if (!v) {
    if (w.spec.inDim !== 1) throw new RangeError(`ringMulDiag ${w.spec.name}: a diagonal weight is stored [n, 1], got [${w.spec.outDim}, ${w.spec.inDim}]`);
    v = unplanar(w.data, w.spec.outDim, 1);
    vectors.set(w, v);
  }
  return v;
}

export async function ringMulDiag(ctx: PartyContext, w: RingRoleWeight, y: RingShared, rows: number): Promise<RingShared> {
  const step = nextStep(ctx);
  const size = rows * w.spec.outDim;
  if (y.size !== size) throw new RangeError(`ringMulDiag ${w.spec.name}: input has ${y.size} elements, expected ${size}`);
  const reuse = ctx.reuseElemMask === false ? undefined : y.meta.p1Mask;
  const vLabel = reuse ?? `${step}/V`;
  const out: RingShared = { meta: { offlineKnown: true }, share: undefined, size };
  const X = vectorOf(w);
  switch (ctx.role) {
    case 'dealer': {
      const V = ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), size, ctx.profile.ringMaskBits);
      const W0 = ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), size, ctx.profile.ringMaskBits);
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [ringSub(ringDiagonal(X, V, rows), W0)], true);
      await ctx.net.flush();
      return out;
    }
    case 'gateway': {
      const y1 = requireRingShare(y, ctx.role);
      const V = reuse ? y1 : ringMask(requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), size, ctx.profile.ringMaskBits);
      if (!reuse) {
        ctx.net.send('engine', MessageKind.MulWInput, step, [ringSub(y1, V)], y.meta.offlineKnown);
        ctx.ringViewTap?.(step, 'mulw-input', V);
      }
      const [W1] = expectRings(await ctx.net.receive('dealer', MessageKind.MulWCorrection, step), [size], `mulDiag ${w.spec.name} correction`);
      out.share = ringAddInto(ringDiagonal(X, V, rows), W1!);
      return out;
    }
    case 'engine': {
      let input = requireRingShare(y, ctx.role);
      if (!reuse) {
        const [D] = expectRings(await ctx.net.receive('gateway', MessageKind.MulWInput, step), [size], `mulDiag ${w.spec.name} input`);
        input = ringAdd(input, D!);
        ctx.ringViewTap?.(step, 'mulw-input', input);
      }
      if (!(X instanceof Int16Array)) throw new Error(`engine: weight ${w.spec.name} is not int16`);
      out.share = ringAddInto(ringDiagonal(X, input, rows), ringMask(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), size, ctx.profile.ringMaskBits));
      return out;
    }
  }
}
