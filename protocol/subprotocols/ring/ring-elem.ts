/**
 * Perm and Elem over Z_2^64 (protocol.md, "Perm", "Elem"), for the `ring64` profile.
 *
 * Perm(π), π from k02 (P0, P2): offline A, B uniform from k12, P2 sends Δ = π(A) − B to P0;
 *   P1 sends x1 − A (uniform); P0 sends π(x0 + x1 − A) + Δ = π(x) − B (uniform to P1 until it
 *   adds B: then P1 holds π(x) exactly).
 * Elem(f): P1 decodes π(x) at the plan's exponent, computes η = f(π(x)) and re-encodes it at the
 *   output exponent it chooses (plaintext/fixed-point/fixed-point-elem.ts; an out-of-range value
 *   ends the request), sends η − A′ (uniform); P0 sets z0′ = π⁻¹(η − A′) + Δ′ with
 *   Δ′ = π⁻¹(A′) − B′; P1 keeps B′. Post: z0′ + B′ = f(x) exactly.
 * What P0 receives (x1 − A, η − A′, Δ, Δ′) is uniform over the ring whatever the data.
 * `width`: the bytes per element of the Perm flights and of Δ (model/fixed-point/view-width.ts;
 * ring-narrowing.ts says why the residues suffice and hide as much); Elem returns stay full words.
 */
import type { Ring } from '../../../compute/ring64.js';
import { decodeLogits, rmsnormFixed, softmaxFixed, swigluFixed } from '../../../plaintext/fixed-point/fixed-point-elem.js';
import { gegluFixed } from '../../../plaintext/fixed-point/fixed-point-gelu.js';
import { Permutation, type PermutationShape } from '../../permutations/permutation.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { evaluateInSlices } from './elem-slices.js';
import { narrowed, residue } from './ring-narrowing.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';
import { applyInSlices, invertInSlices, ringAddInSlices, ringMaskInSlices, ringSubInSlices, widenViewInSlices } from './ring-slices.js';

/** The nonlinear steps with the exponents the user decodes and re-encodes at. */
export type RingElemFunction =
  | { kind: 'rmsnorm'; rows: number; cols: number; eps: number; inExp: number; outExp: number }
  /** `softcap`: Gemma 2's attention logit soft-capping of the scaled scores, inside this step. */
  | { kind: 'softmax'; rows: number; cols: number; scale: number; inExp: number; outExp: number; softcap?: number }
  /** Two blocks of `length`: gate then up; output silu(gate) ⊙ up. */
  | { kind: 'swiglu'; length: number; inExp: number; outExp: number }
  /** Gemma: the same pairing, output gelu_tanh(gate) ⊙ up (plaintext/fixed-point/fixed-point-gelu.ts). */
  | { kind: 'geglu'; length: number; inExp: number; outExp: number };

const isPaired = (f: RingElemFunction): f is Extract<RingElemFunction, { length: number }> => f.kind === 'swiglu' || f.kind === 'geglu';

function shapeOf(f: RingElemFunction): PermutationShape {
  return isPaired(f) ? { kind: 'flat', length: f.length } : { kind: 'row-wise', rows: f.rows, cols: f.cols };
}

const inputSize = (f: RingElemFunction) => (isPaired(f) ? 2 * f.length : f.rows * f.cols);
const outputSize = (f: RingElemFunction) => (isPaired(f) ? f.length : f.rows * f.cols);

/** η = f(view) on P1's plaintext view (also what the oracle computes on unpermuted values). */
export function evaluateRingElem(f: RingElemFunction, view: Ring): Ring {
  switch (f.kind) {
    case 'rmsnorm':
      return rmsnormFixed(view, f.rows, f.cols, f.eps, f.inExp, f.outExp);
    case 'softmax':
      return softmaxFixed(view, f.rows, f.cols, f.scale, f.inExp, f.outExp, f.softcap);
    case 'swiglu':
      return swigluFixed(view, f.length, f.inExp, f.outExp);
    case 'geglu':
      return gegluFixed(view, f.length, f.inExp, f.outExp);
  }
}

export async function ringElem(ctx: PartyContext, x: RingShared, f: RingElemFunction, width = 8): Promise<RingShared> {
  const step = nextStep(ctx);
  const nIn = inputSize(f);
  const nOut = outputSize(f);
  if (x.size !== nIn) throw new RangeError(`ringElem ${f.kind}: input has ${x.size} elements, expected ${nIn}`);
  const outLabel = `${step}/B2`;
  const out: RingShared = { meta: { offlineKnown: true, p1Mask: outLabel }, share: undefined, size: nOut };
  switch (ctx.role) {
    case 'dealer': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shapeOf(f));
      const A = await ringMaskInSlices(k12.prg(`${step}/A`), nIn, ctx.profile.ringMaskBits);
      const B = await ringMaskInSlices(k12.prg(`${step}/B`), nIn, ctx.profile.ringMaskBits);
      const A2 = await ringMaskInSlices(k12.prg(`${step}/A2`), nOut, ctx.profile.ringMaskBits);
      const B2 = await ringMaskInSlices(k12.prg(outLabel), nOut, ctx.profile.ringMaskBits);
      const delta = await ringSubInSlices(await applyInSlices(pi, A), B);
      const delta2 = await ringSubInSlices(await invertInSlices(pi, A2), B2);
      ctx.net.send('engine', MessageKind.ElemCorrection, step, [narrowed(delta, width), delta2], true);
      await ctx.net.flush();
      return out;
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = await ringMaskInSlices(k12.prg(`${step}/A`), nIn, ctx.profile.ringMaskBits);
      const B = await ringMaskInSlices(k12.prg(`${step}/B`), nIn, ctx.profile.ringMaskBits);
      ctx.net.send('engine', MessageKind.PermInput, step, [narrowed(await ringSubInSlices(requireRingShare(x, ctx.role), A), width)], x.meta.offlineKnown);
      const [masked] = expectRings(await ctx.net.receive('engine', MessageKind.PermOutput, step), [nIn], 'elem output', [width]);
      const eta = await evaluateInSlices(f, await widenViewInSlices(await ringAddInSlices(masked!, B), width, `${f.kind} input`), evaluateRingElem);
      const A2 = await ringMaskInSlices(k12.prg(`${step}/A2`), nOut, ctx.profile.ringMaskBits);
      ctx.ringViewTap?.(step, 'perm-input', A);
      ctx.ringViewTap?.(step, 'elem-return', A2);
      ctx.net.send('engine', MessageKind.ElemReturn, step, [await ringSubInSlices(eta, A2)]);
      out.share = await ringMaskInSlices(k12.prg(outLabel), nOut, ctx.profile.ringMaskBits);
      return out;
    }
    case 'engine': {
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shapeOf(f));
      const [delta, delta2] = expectRings(await ctx.net.receive('dealer', MessageKind.ElemCorrection, step), [nIn, nOut], 'elem correction', [width, 8]);
      const [input] = expectRings(await ctx.net.receive('gateway', MessageKind.PermInput, step), [nIn], 'elem input', [width]);
      const held = await ringAddInSlices(requireRingShare(x, ctx.role), input!); // x − A (mod 2^(8·width))
      ctx.ringViewTap?.(step, 'perm-input', residue(held, width));
      ctx.net.send('gateway', MessageKind.PermOutput, step, [narrowed(await ringAddInSlices(await applyInSlices(pi, held), delta!), width)]);
      const [ret] = expectRings(await ctx.net.receive('gateway', MessageKind.ElemReturn, step), [nOut], 'elem return');
      ctx.ringViewTap?.(step, 'elem-return', ret!); // η − A′
      out.share = await ringAddInSlices(await invertInSlices(pi, ret!), delta2!);
      return out;
    }
  }
}

/**
 * Perm with a fresh flat π, opened to P1: P1 gets π(x) decoded at `exponent` (the permuted
 * logits), P0 keeps π for the token lookup. Same messages as Elem's first half.
 */
export async function ringPermOpen(ctx: PartyContext, x: RingShared, exponent: number, width = 8): Promise<{ view?: Float64Array; permutation?: Permutation }> {
  const step = nextStep(ctx);
  const n = x.size;
  const shape = { kind: 'flat', length: n } as const;
  switch (ctx.role) {
    case 'dealer': {
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shape);
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = await ringMaskInSlices(k12.prg(`${step}/A`), n, ctx.profile.ringMaskBits);
      const B = await ringMaskInSlices(k12.prg(`${step}/B`), n, ctx.profile.ringMaskBits);
      ctx.net.send('engine', MessageKind.PermCorrection, step, [narrowed(await ringSubInSlices(await applyInSlices(pi, A), B), width)], true);
      await ctx.net.flush();
      return {};
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = await ringMaskInSlices(k12.prg(`${step}/A`), n, ctx.profile.ringMaskBits);
      const B = await ringMaskInSlices(k12.prg(`${step}/B`), n, ctx.profile.ringMaskBits);
      ctx.net.send('engine', MessageKind.PermInput, step, [narrowed(await ringSubInSlices(requireRingShare(x, ctx.role), A), width)], x.meta.offlineKnown);
      ctx.ringViewTap?.(step, 'perm-input', A);
      const [masked] = expectRings(await ctx.net.receive('engine', MessageKind.PermOutput, step), [n], 'perm output', [width]);
      return { view: decodeLogits(await widenViewInSlices(await ringAddInSlices(masked!, B), width, 'logits'), exponent) };
    }
    case 'engine': {
      const pi = Permutation.draw(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), shape);
      const [delta] = expectRings(await ctx.net.receive('dealer', MessageKind.PermCorrection, step), [n], 'perm correction', [width]);
      const [input] = expectRings(await ctx.net.receive('gateway', MessageKind.PermInput, step), [n], 'perm input', [width]);
      const held = await ringAddInSlices(requireRingShare(x, ctx.role), input!);
      ctx.ringViewTap?.(step, 'perm-input', residue(held, width));
      ctx.net.send('gateway', MessageKind.PermOutput, step, [narrowed(await ringAddInSlices(await applyInSlices(pi, held), delta!), width)]);
      return { permutation: pi };
    }
  }
}
