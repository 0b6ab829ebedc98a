/**
 * Narrowed Perm flights (issue 12: "no more bytes than their values need"): the one codec every
 * view step uses (ring-elem.ts, ring-view-step.ts and what builds on them) for its Perm input
 * x1 − A (P1→P0), its Perm output π(x) − B (P0→P1) and the dealer's Δ = π(A) − B (P2→P0).
 *
 * Exactness. Let w be the view's width (model/fixed-point/view-width.ts) and N = 2^(8w). P1 needs
 * π(x) only, and the plan bounds it: |π(x)| < 2^(8w−3) < N/2. Reduction mod N is a ring
 * homomorphism of Z_2^64 → Z_N and commutes with the engine's additions and with any permutation
 * of coordinates, so P0 computing π(x0 + (x1 − A)) + Δ from the residues mod N of x1 − A and Δ
 * yields (π(x) − B) mod N; P1 adds B and gets π(x) mod N, and the unique representative in
 * [−N/2, N/2) is π(x) itself (plaintext/fixed-point/view-width-check.ts widenView, which also
 * applies the range check). Nothing that is later multiplied mod 2^64 is narrowed: the Elem
 * return η − A′ becomes P0's share and stays a full word, as do MulW inputs and Beaver openings.
 *
 * Privacy. A is uniform on Z_2^64, so A mod N is uniform on Z_N and independent of the data: the
 * w-byte message (x1 − A) mod N P0 receives is uniform on Z_N whatever x is, and so is B mod N
 * for P1's π(x) − B. Every narrowed message is the low 8w bits of a message that was uniform on
 * the ring before, so each party's view is a function of its old view (it learns nothing new),
 * and the width itself is public (from the public plan). The engine's recorded view
 * (ringViewTap) is the residue, sign-extended, so the view distinguishers still test what P0 holds.
 *
 * Width 8 sends the full word (frame part type 5): the float profiles and every step whose bound
 * needs the whole ring are unchanged.
 */
import type { Ring } from '../../../compute/ring64.js';
import { FULL_VIEW_WIDTH } from '../../../model/fixed-point/view-width.js';
import { signExtendWords } from '../../../plaintext/fixed-point/view-width-check.js';
import { NarrowedRing, type FramePart } from '../../wire/frame.js';

/** The frame part for `values` sent at `width` bytes per element (width 8: the ring array itself). */
export function narrowed(values: Ring, width: number = FULL_VIEW_WIDTH): FramePart {
  return width >= FULL_VIEW_WIDTH ? values : new NarrowedRing(values, width);
}

/** What P0 holds of a narrowed value: its residue mod 2^(8·width), sign-extended (a copy). */
export function residue(values: Ring, width: number = FULL_VIEW_WIDTH): Ring {
  return width >= FULL_VIEW_WIDTH ? values : signExtendWords(values.slice(), width);
}
