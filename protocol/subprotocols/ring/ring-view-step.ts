/**
 * A user step over several permuted views at once, over Z_2^64: Perm of every input in one
 * flight each way, the user's function on its views, and Elem's return of every output (the
 * multi-tensor form of ring-elem.ts, for the single-view attention mode and deferred
 * normalisation of issue 12).
 *
 * For inputs x_i under permutations π_i and outputs under τ_j (all known to P0 and P2 only):
 * offline, A_i, B_i, A′_j, B′_j from k12; P2 sends P0 Δ_i = π_i(A_i) − B_i and
 * Δ′_j = τ_j⁻¹(A′_j) − B′_j. Online: P1 sends x_i1 − A_i (uniform); P0 sends
 * π_i(x_i0 + x_i1 − A_i) + Δ_i = π_i(x_i) − B_i; P1 adds B_i, computes η = f(π_1(x_1), …) with
 * η_j = τ_j(y_j), sends η_j − A′_j (uniform); P0 sets y_j0 = τ_j⁻¹(η_j − A′_j) + Δ′_j, P1 keeps
 * y_j1 = B′_j. What P0 receives is uniform over the ring whatever the data; P1 sees exactly its
 * permuted views. A permutation may be fixed for the session (the per-head coordinate
 * permutations of q, k, v) or fresh per call (the residual's).
 */
import type { Ring } from '../../../compute/ring64.js';
import type { Permutation } from '../../permutations/permutation.js';
import { nextStep, requireKey, type PartyContext } from '../../session/party-context.js';
import { MessageKind } from '../../wire/frame.js';
import { narrowed, residue } from './ring-narrowing.js';
import { expectRings, requireRingShare, type RingShared } from './ring-shared.js';
import { applyInSlices, inSequence, invertInSlices, ringAddInSlices, ringMaskInSlices, ringSubInSlices, widenViewInSlices } from './ring-slices.js';

export interface ViewInput {
  x: RingShared;
  /** P0 and P2: the permutation of this view (its length divides x.size); may be drawn in slices. */
  permutation: (step: number) => Permutation | Promise<Permutation>;
  /**
   * Bytes per element of this view's Perm flights and Δ (default 8; model/fixed-point/view-width.ts,
   * ring-narrowing.ts): P1 receives the view sign-extended and range-checked from that width.
   */
  width?: number;
}

export interface ViewOutput {
  size: number;
  /** P0 and P2: the permutation the user's output is under (undone by P0). */
  permutation: (step: number) => Permutation | Promise<Permutation>;
}

/**
 * What a view step tells a step built on it about its return flight (the fused P·V step,
 * ring-fused-values.ts): the step number; P1 and P0: the returns η_j − A′_j as sent and as
 * received; P2: the corrections Δ′_j = τ_j⁻¹(A′_j) − B′_j it sent P0 and the masks B′_j.
 */
export interface ViewReturn {
  step: number;
  returned?: Ring[];
  corrections?: Ring[];
  masks?: Ring[];
}

/**
 * `f` runs at P1 only: it receives the views in input order and returns the outputs in output
 * order, each under its τ_j. `tap` names the step's values for the view taps
 * (`${tap}-input/k`, `${tap}-return/j`), so that a test can tell the steps apart. `onReturn`
 * (optional) receives the step's ViewReturn at every party.
 */
export async function ringViewStep(ctx: PartyContext, inputs: ViewInput[], outputs: ViewOutput[], f: (views: Ring[]) => Promise<Ring[]>, tap = 'view', onReturn?: (r: ViewReturn) => void): Promise<RingShared[]> {
  const step = nextStep(ctx);
  const bits = ctx.profile.ringMaskBits;
  const inSizes = inputs.map((i) => i.x.size);
  const widths = inputs.map((i) => i.width ?? 8);
  const outSizes = outputs.map((o) => o.size);
  const outLabel = (j: number) => `${step}/B2/${j}`;
  const result: RingShared[] = outputs.map((o, j) => ({ meta: { offlineKnown: true, p1Mask: outLabel(j) }, share: undefined, size: o.size }));
  // Every whole-tensor pass in slices (ring-slices.ts): at a long prefill chunk these are the causal triangle's size.
  const masks = (k12: NonNullable<PartyContext['k12']>, what: string, sizes: number[]) => inSequence(sizes, (n, i) => ringMaskInSlices(k12.prg(`${step}/${what}/${i}`), n, bits));
  switch (ctx.role) {
    case 'dealer': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = await masks(k12, 'A', inSizes);
      const B = await masks(k12, 'B', inSizes);
      const A2 = await masks(k12, 'A2', outSizes);
      const B2 = await inSequence(outSizes, (n, j) => ringMaskInSlices(k12.prg(outLabel(j)), n, bits));
      const deltas = await inSequence(inputs, async (i, k) => {
        const moved = await applyInSlices(await i.permutation(step), A[k]!);
        return narrowed(await ringSubInSlices(moved, B[k]!, moved), widths[k]);
      });
      const deltas2 = await inSequence(outputs, async (o, j) => {
        const moved = await invertInSlices(await o.permutation(step), A2[j]!);
        return ringSubInSlices(moved, B2[j]!, moved);
      });
      ctx.net.send('engine', MessageKind.ElemCorrection, step, [...deltas, ...deltas2], true);
      await ctx.net.flush();
      onReturn?.({ step, corrections: deltas2, masks: B2 });
      return result;
    }
    case 'gateway': {
      const k12 = requireKey(ctx.k12, 'k12', ctx.role);
      const A = await masks(k12, 'A', inSizes);
      const B = await masks(k12, 'B', inSizes);
      const offline = inputs.every((i) => i.x.meta.offlineKnown);
      const sent = await inSequence(inputs, async (i, k) => narrowed(await ringSubInSlices(requireRingShare(i.x, ctx.role), A[k]!), widths[k]));
      ctx.net.send('engine', MessageKind.PermInput, step, sent, offline);
      const masked = expectRings(await ctx.net.receive('engine', MessageKind.PermOutput, step), inSizes, 'view output', widths);
      const views = await inSequence(masked, async (m, k) => widenViewInSlices(await ringAddInSlices(m, B[k]!, m), widths[k]!, `view ${k}`)); // in place: the received array is this step's own
      const eta = await f(views);
      if (eta.length !== outputs.length || eta.some((e, j) => e.length !== outSizes[j])) throw new Error('ringViewStep: the user step returned the wrong outputs');
      const A2 = await masks(k12, 'A2', outSizes);
      A.forEach((a, k) => ctx.ringViewTap?.(step, `${tap}-input/${k}`, a));
      A2.forEach((a, j) => ctx.ringViewTap?.(step, `${tap}-return/${j}`, a));
      const returned = await inSequence(eta, (e, j) => ringSubInSlices(e, A2[j]!));
      ctx.net.send('engine', MessageKind.ElemReturn, step, returned);
      const shares = await inSequence(outSizes, (n, j) => ringMaskInSlices(k12.prg(outLabel(j)), n, bits));
      result.forEach((r, j) => (r.share = shares[j]));
      onReturn?.({ step, returned });
      return result;
    }
    case 'engine': {
      const corrections = expectRings(await ctx.net.receive('dealer', MessageKind.ElemCorrection, step), [...inSizes, ...outSizes], 'view correction', [...widths, ...outSizes.map(() => 8)]);
      const received = expectRings(await ctx.net.receive('gateway', MessageKind.PermInput, step), inSizes, 'view input', widths);
      const held = await inSequence(inputs, (i, k) => ringAddInSlices(requireRingShare(i.x, ctx.role), received[k]!, received[k]!)); // x − A (mod 2^(8·width)), in the received array
      held.forEach((h, k) => ctx.ringViewTap?.(step, `${tap}-input/${k}`, residue(h, widths[k])));
      const sent = await inSequence(inputs, async (i, k) => {
        const moved = await applyInSlices(await i.permutation(step), held[k]!);
        return narrowed(await ringAddInSlices(moved, corrections[k]!, moved), widths[k]);
      });
      ctx.net.send('gateway', MessageKind.PermOutput, step, sent);
      const returned = expectRings(await ctx.net.receive('gateway', MessageKind.ElemReturn, step), outSizes, 'view return');
      returned.forEach((r, j) => ctx.ringViewTap?.(step, `${tap}-return/${j}`, r)); // η − A′
      const shares = await inSequence(outputs, async (o, j) => {
        const moved = await invertInSlices(await o.permutation(step), returned[j]!);
        return ringAddInSlices(moved, corrections[inputs.length + j]!, moved);
      });
      result.forEach((r, j) => (r.share = shares[j]));
      onReturn?.({ step, returned });
      return result;
    }
  }
}
