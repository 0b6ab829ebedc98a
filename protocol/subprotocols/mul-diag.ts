/**
 * MulW with a diagonal weight under the float profiles (protocol.md, "MulW", with
 * f(X, y) = y ⊙ X on every row): the engine's secret vector X (Gemma's post-norm γ, stored
 * [n, 1]) applied to a shared input; the float counterpart of ring/ring-mul-diag.ts.
 * Offline: V from k12 (or V = B′ after an Elem: nothing online), W0 from k02; P2 sends
 * W1 = U ⊙ V − W0 to P1, who sets z1 = (X − U) ⊙ V + W1. Online: P1 sends D = y1 − V (none when
 * V = B′); P0 sets z0 = X ⊙ (y0 + D) + W0. Mask widths as MulW's with an inner dimension of 1.
 */
import { dataMaskWidth, drawMask, roundToDtype, type TensorFamily } from '../masks/mask-profile.js';
import { MessageKind } from '../wire/frame.js';
import { addInto, nextStep, requireKey, requireShare, subArrays, type PartyContext, type Shared } from '../session/party-context.js';
import type { RoleWeight } from './mul-w.js';

function diagonal(w: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = w[i % w.length]! * y[i]!;
  return out;
}

export async function mulDiag(ctx: PartyContext, w: RoleWeight, y: Shared, rows: number, outFamily: TensorFamily): Promise<Shared> {
  const step = nextStep(ctx);
  const { profile } = ctx;
  const size = rows * w.spec.outDim;
  if (w.spec.inDim !== 1) throw new RangeError(`mulDiag ${w.spec.name}: a diagonal weight is stored [n, 1]`);
  if (y.size !== size) throw new RangeError(`mulDiag ${w.spec.name}: input has ${y.size} elements, expected ${size}`);
  const reuse = ctx.reuseElemMask === false ? undefined : y.meta.p1Mask;
  const vWidth = reuse?.width ?? dataMaskWidth(profile, y.meta.family);
  const vLabel = reuse?.label ?? `${step}/V`;
  const w0Width = profile.productFactor * profile.weightRatio * w.spec.scale * vWidth;
  const out: Shared = { meta: { family: outFamily, offlineKnown: true }, share: undefined, size };
  switch (ctx.role) {
    case 'dealer': {
      const V = drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), size, vWidth);
      const W0 = drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), size, w0Width);
      ctx.net.send('gateway', MessageKind.MulWCorrection, step, [roundToDtype(profile, subArrays(diagonal(w.data, V), W0))], true);
      await ctx.net.flush();
      return out;
    }
    case 'gateway': {
      const y1 = requireShare(y, ctx.role);
      const V = reuse ? y1 : drawMask(profile, requireKey(ctx.k12, 'k12', ctx.role).prg(vLabel), size, vWidth);
      if (!reuse) ctx.net.send('engine', MessageKind.MulWInput, step, [roundToDtype(profile, subArrays(y1, V))], y.meta.offlineKnown);
      const [W1] = await ctx.net.receive('dealer', MessageKind.MulWCorrection, step);
      if (!(W1 instanceof Float64Array) || W1.length !== size) throw new Error(`mulDiag ${w.spec.name}: bad correction from the dealer`);
      out.share = roundToDtype(profile, addInto(diagonal(w.data, V), W1));
      return out;
    }
    case 'engine': {
      let input = requireShare(y, ctx.role);
      if (!reuse) {
        const [D] = await ctx.net.receive('gateway', MessageKind.MulWInput, step);
        if (!(D instanceof Float64Array) || D.length !== size) throw new Error(`mulDiag ${w.spec.name}: bad input from the gateway`);
        input = addInto(Float64Array.from(input), D);
      }
      const W0 = drawMask(profile, requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/W0`), size, w0Width);
      out.share = roundToDtype(profile, addInto(diagonal(w.data, input), W0));
      return out;
    }
  }
}
