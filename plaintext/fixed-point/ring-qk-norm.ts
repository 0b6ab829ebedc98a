/**
 * The per-head q/k RMSNorm of Qwen3 and Gemma 3 (q′ = γ_q ⊙ q/rms(q) per head, k′ likewise,
 * before RoPE) in the `ring64` profile, as the fixed-point oracle and the private program both
 * lay it out (model/fixed-point/plan-qk-norm.ts for the exponents):
 * 1. the q and k columns of the qkv output, [rows, (nHeads + nKvHeads)·headDim], read as
 *    rows·(nHeads + nKvHeads) head rows of headDim: one row-wise RMSNorm over all of them (in
 *    the protocol one row-wise Elem, so the user sees q and k heads shuffled together);
 * 2. one diagonal linear map [2·headDim, headDim] (γ_q over γ_k) applied to every head row;
 * 3. q heads keep the γ_q half of their output, k heads the γ_k half (qkNormSelect).
 * Every step is exact in Z_2^64 except the norm itself, which is the user's nonlinear step.
 */
import type { Ring } from '../../compute/ring64.js';
import type { RingAttentionShape } from './ring-attention.js';
import { ringColumns } from './ring-tensors.js';

/** The head rows the norm runs over: how many rows of headDim. */
export function qkHeadRows(s: RingAttentionShape, rows: number): number {
  return rows * (s.nHeads + s.nKvHeads);
}

/** The q|k columns of qkv [rows, width] (width = (nHeads + 2·nKvHeads)·headDim). */
export function qkHeads(qkv: Ring, s: RingAttentionShape, rows: number): Ring {
  const qkWidth = (s.nHeads + s.nKvHeads) * s.headDim;
  return ringColumns(qkv, rows, qkWidth + s.nKvHeads * s.headDim, 0, qkWidth);
}

/**
 * From the diagonal map's output [rows·(nHeads + nKvHeads), 2·headDim] to q′ [rows, nHeads·headDim]
 * and k′ [rows, nKvHeads·headDim]: a q head row keeps its first headDim values, a k head row its last.
 */
export function qkNormSelect(scaled: Ring, s: RingAttentionShape, rows: number): { q: Ring; k: Ring } {
  const d = s.headDim;
  const heads = s.nHeads + s.nKvHeads;
  if (scaled.length !== rows * heads * 2 * d) throw new RangeError(`qkNormSelect: expected ${rows * heads * 2 * d} elements, got ${scaled.length}`);
  const q = new BigUint64Array(rows * s.nHeads * d);
  const k = new BigUint64Array(rows * s.nKvHeads * d);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const row = (r * heads + h) * 2 * d;
      if (h < s.nHeads) q.set(scaled.subarray(row, row + d), (r * s.nHeads + h) * d);
      else k.set(scaled.subarray(row + d, row + 2 * d), (r * s.nKvHeads + h - s.nHeads) * d);
    }
  }
  return { q, k };
}
