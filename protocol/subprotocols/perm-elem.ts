/**
 * Perm and Elem (protocol.md, "Perm" and "Elem").
 *
 * Perm(π), π drawn by P0 and P2 from k02, never known to P1:
 *   offline: A, B from k12; P2 sends Δ = π(A) − B to P0.
 *   online:  P1 sends x1 − A; P0 sets z0 = π(x0 + x1 − A) + Δ = π(x) − B; P1 sets z1 = B.
 * Elem(f) = Perm(π), then P0 reveals z0 to P1, who sees π(x) = z0 + B, computes η = f(π(x)),
 *   then Perm(π⁻¹) on the sharing (0, η): P1 sends η − A′; P0 sets z0′ = π⁻¹(η − A′) + Δ′ with
 *   Δ′ = π⁻¹(A′) − B′ from the dealer; P1 keeps B′. Post: z0′ + B′ = f(x).
 * Flights: P1→P0 (x1 − A, offline when x1 is offline-known), P0→P1, P1→P0.
 *
 * The output's P1 share is the k12 mask B′ (`meta.p1Mask`), so the next MulW can use V = B′.
 */
import { SharedKey } from '../../crypto/key-agreement.js';
import { dataMaskWidth, drawMask, roundToDtype, type MaskProfile, type TensorFamily } from '../masks/mask-profile.js';
import { Permutation } from '../permutations/permutation.js';
import { addArrays, nextStep, requireKey, requireShare, subArrays, type PartyContext, type Shared } from '../session/party-context.js';
import { MessageKind, type FramePart } from '../wire/frame.js';
import { evaluateElem, inputSizeOf, outputSizeOf, permutationShapeOf, type ElemFunction } from './elem-function.js';

function expectFloats(parts: FramePart[], sizes: number[], what: string): Float64Array[] {
  if (parts.length !== sizes.length) throw new Error(`${what}: expected ${sizes.length} parts, got ${parts.length}`);
  return parts.map((p, i) => {
    if (!(p instanceof Float64Array) || p.length !== sizes[i]) throw new Error(`${what}: part ${i} has the wrong type or size`);
    return p;
  });
}

interface PermMasks {
  A: Float64Array;
  B: Float64Array;
}

function permMasks(profile: MaskProfile, k12: SharedKey, step: number, size: number, width: number): PermMasks {
  return { A: drawMask(profile, k12.prg(`${step}/A`), size, width), B: drawMask(profile, k12.prg(`${step}/B`), size, width) };
}

export function drawPermutation(k02: SharedKey, step: number, f: ElemFunction): Permutation {
  return Permutation.draw(k02.prg(`${step}/pi`), permutationShapeOf(f));
}

/**
 * Elem: shares of f(x) from shares of x. `inFamily` sizes A/B, `outFamily` sizes A′/B′.
 */
export async function elem(ctx: PartyContext, x: Shared, f: ElemFunction, outFamily: TensorFamily): Promise<Shared> {
  const step = nextStep(ctx);
  const { profile } = ctx;
  const nIn = inputSizeOf(f);
  const nOut = outputSizeOf(f);
  if (x.size !== nIn) throw new RangeError(`elem ${f.kind}: input has ${x.size} elements, expected ${nIn}`);
  const inWidth = dataMaskWidth(profile, x.meta.family);
  const outWidth = dataMaskWidth(profile, outFamily);
  const outLabel = `${step}/B2`;
  const out: Shared = { meta: { family: outFamily, offlineKnown: true, p1Mask: { label: outLabel, width: outWidth } }, share: undefined, size: nOut };

  switch (ctx.role) {
    case 'dealer': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const pi = drawPermutation(requireKey(ctx.k02, 'k02', ctx.role), step, f);
      const { A, B } = permMasks(profile, k12, step, nIn, inWidth);
      const A2 = drawMask(profile, k12.prg(`${step}/A2`), nOut, outWidth);
      const B2 = drawMask(profile, k12.prg(outLabel), nOut, outWidth);
      const delta = subArrays(pi.apply(A), B);
      const delta2 = subArrays(pi.invert(A2), B2);
      ctx.net.send('engine', MessageKind.ElemCorrection, step, [roundToDtype(profile, delta), roundToDtype(profile, delta2)], true);
      await ctx.net.flush(); // the dealer streams each step's material as soon as it exists
      return out;
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const { A, B } = permMasks(profile, k12, step, nIn, inWidth);
      ctx.net.send('engine', MessageKind.PermInput, step, [roundToDtype(profile, subArrays(requireShare(x, ctx.role), A))], x.meta.offlineKnown);
      const [masked] = expectFloats(await ctx.net.receive('engine', MessageKind.PermOutput, step), [nIn], 'elem output');
      const eta = evaluateElem(f, addArrays(masked!, B));
      const A2 = drawMask(profile, k12.prg(`${step}/A2`), nOut, outWidth);
      ctx.net.send('engine', MessageKind.ElemReturn, step, [roundToDtype(profile, subArrays(eta, A2))]);
      out.share = roundToDtype(profile, drawMask(profile, k12.prg(outLabel), nOut, outWidth));
      ctx.observe?.({ op: 'elem', step, fn: f, input: x, output: out });
      return out;
    }
    case 'engine': {
      const pi = drawPermutation(requireKey(ctx.k02, 'k02', ctx.role), step, f);
      const [delta, delta2] = expectFloats(await ctx.net.receive('dealer', MessageKind.ElemCorrection, step), [nIn, nOut], 'elem correction');
      const [input] = expectFloats(await ctx.net.receive('gateway', MessageKind.PermInput, step), [nIn], 'elem input');
      const permuted = pi.apply(addArrays(requireShare(x, ctx.role), input!));
      ctx.net.send('gateway', MessageKind.PermOutput, step, [roundToDtype(profile, addArrays(permuted, delta!))]);
      const [ret] = expectFloats(await ctx.net.receive('gateway', MessageKind.ElemReturn, step), [nOut], 'elem return');
      out.share = roundToDtype(profile, addArrays(pi.invert(ret!), delta2!));
      ctx.observe?.({ op: 'elem', step, fn: f, input: x, output: out });
      return out;
    }
  }
}

/**
 * Perm followed by opening to P1: P1 learns π(x) for a fresh flat π (the logits before sampling);
 * P0 learns nothing and keeps π (returned) for the token lookup. P1 and the dealer get undefined.
 * The engine's PermOutput leaves on its next receive (or an explicit flush), like every message.
 */
export async function permOpen(ctx: PartyContext, x: Shared): Promise<{ view?: Float64Array; permutation?: Permutation }> {
  const step = nextStep(ctx);
  const { profile } = ctx;
  const n = x.size;
  const width = dataMaskWidth(profile, x.meta.family);
  const shape = { kind: 'flat', length: n } as const;
  switch (ctx.role) {
    case 'dealer': {
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shape);
      const { A, B } = permMasks(profile, requireKey(ctx.k12, 'k12', ctx.role), step, n, width);
      ctx.net.send('engine', MessageKind.PermCorrection, step, [roundToDtype(profile, subArrays(pi.apply(A), B))], true);
      await ctx.net.flush(); // the dealer streams each step's material as soon as it exists
      return {};
    }
    case 'gateway': {
      const { A, B } = permMasks(profile, requireKey(ctx.k12, 'k12', ctx.role), step, n, width);
      ctx.net.send('engine', MessageKind.PermInput, step, [roundToDtype(profile, subArrays(requireShare(x, ctx.role), A))], x.meta.offlineKnown);
      const [masked] = expectFloats(await ctx.net.receive('engine', MessageKind.PermOutput, step), [n], 'perm output');
      const view = addArrays(masked!, B);
      ctx.observe?.({ op: 'permOpen', step, input: x, view, permutation: undefined });
      return { view };
    }
    case 'engine': {
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shape);
      const [delta] = expectFloats(await ctx.net.receive('dealer', MessageKind.PermCorrection, step), [n], 'perm correction');
      const [input] = expectFloats(await ctx.net.receive('gateway', MessageKind.PermInput, step), [n], 'perm input');
      ctx.net.send('gateway', MessageKind.PermOutput, step, [roundToDtype(profile, addArrays(pi.apply(addArrays(requireShare(x, ctx.role), input!)), delta!))]);
      ctx.observe?.({ op: 'permOpen', step, input: x, view: undefined, permutation: pi });
      return { permutation: pi };
    }
  }
}

export { expectFloats };
