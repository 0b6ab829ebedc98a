/**
 * Elem(softmax) over the packed causal triangle of the scores (ring-causal.ts), for the paper's
 * attention mode: the same messages as ring-elem.ts's softmax (Perm in, Elem return; one flight
 * each way plus the return), each of the triangle's size, under a fresh permutation per call
 * (drawCausalPermutation). Input: scores [heads, rows, keys] (causal mask applied); output: the
 * packed probabilities, P1's share the k12 mask B′ of the step. `softcap`: Gemma's attention
 * soft-cap, applied inside the same step (fixed-point-elem.ts softmaxFixed).
 */
import type { Permutation } from '../../permutations/permutation.js';
import { requireKey, type PartyContext } from '../../session/party-context.js';
import { causalSize, drawCausalPermutationInSlices, packCausal, softmaxCausalInSlices, type CausalShape } from './ring-causal.js';
import { ringLocal, type RingShared } from './ring-shared.js';
import { ringViewStep, type ViewReturn } from './ring-view-step.js';

export async function ringCausalSoftmax(ctx: PartyContext, scores: RingShared, s: CausalShape, scale: number, inExp: number, outExp: number, softcap?: number): Promise<RingShared> {
  return (await ringCausalSoftmaxStep(ctx, scores, s, scale, inExp, outExp, softcap)).probs;
}

/** The softmax step and what the fused P·V step builds on (ring-fused-values.ts): its return flight and, at P0 and P2, its permutation. */
export interface CausalSoftmaxStep {
  probs: RingShared;
  ret: ViewReturn;
  permutation?: Permutation;
}

export async function ringCausalSoftmaxStep(ctx: PartyContext, scores: RingShared, s: CausalShape, scale: number, inExp: number, outExp: number, softcap?: number): Promise<CausalSoftmaxStep> {
  const size = causalSize(s);
  const packed = ringLocal(scores, size, (x) => packCausal(x, s));
  // Drawn once per step at P0 and P2 (input and output are under the same π), in slices (ring-causal.ts).
  let drawn: { step: number; p: Promise<Permutation> } | undefined;
  const permutation = (step: number) => {
    if (drawn?.step !== step) drawn = { step, p: drawCausalPermutationInSlices(requireKey(ctx.k02, 'k02', ctx.role).prg(`${step}/pi`), s) };
    return drawn.p;
  };
  let ret: ViewReturn | undefined;
  const [probs] = await ringViewStep(ctx, [{ x: packed, permutation }], [{ size, permutation }], async ([view]) => [await softmaxCausalInSlices(view!, s, scale, inExp, outExp, softcap)], 'view', (r) => (ret = r));
  if (!ret) throw new Error('ringCausalSoftmax: the view step reported no return');
  return ctx.role === 'gateway' ? { probs: probs!, ret } : { probs: probs!, ret, permutation: await permutation(ret.step) };
}
