/**
 * The RoPE layout conversion is the right one, checked against the Hugging Face definition
 * itself: applying transformers' rotate_half RoPE to half-split rows equals converting the
 * rows to our interleaved layout, applying our RopeTable, and converting back.
 */
import { describe, expect, it } from 'vitest';
import { halfSplitToInterleaved, interleavedToHalfSplit } from '../../model/huggingface/rope-layout.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import { Prg } from '../../crypto/prg.js';

/** transformers' apply_rotary_pos_emb for one head: q·cos + rotate_half(q)·sin, cos = [cosθ_i | cosθ_i]. */
function huggingFaceRope(q: Float64Array, position: number, theta: number): Float64Array {
  const d = q.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const i = j % half;
    const angle = position * theta ** ((-2 * i) / d);
    const rotated = j < half ? -q[j + half]! : q[j - half]!;
    out[j] = q[j]! * Math.cos(angle) + rotated * Math.sin(angle);
  }
  return out;
}

describe('RoPE layout', () => {
  it('half-split rows + rotate_half RoPE == interleaved rows + our RoPE', () => {
    const nHeads = 3;
    const headDim = 16;
    const theta = 10000;
    const prg = Prg.fromSeed('test-rope-layout', 0);
    const table = new RopeTable(headDim, 64, theta);
    for (const position of [0, 1, 7, 63]) {
      const hfVector = Float32Array.from(prg.uniformArray(nHeads * headDim, 1));
      const expected = new Float64Array(nHeads * headDim);
      for (let h = 0; h < nHeads; h++) {
        expected.set(huggingFaceRope(Float64Array.from(hfVector.subarray(h * headDim, (h + 1) * headDim)), position, theta), h * headDim);
      }
      // A column vector is a [rows, 1] matrix: the same row permutation as for wq and bq.
      const ours = halfSplitToInterleaved(hfVector, nHeads, headDim, 1);
      table.rotate(ours, 0, nHeads, position);
      const back = interleavedToHalfSplit(ours, nHeads, headDim, 1);
      for (let i = 0; i < back.length; i++) expect(back[i]).toBeCloseTo(expected[i]!, 5);
    }
  });

  it('the two permutations are inverse to each other and move whole rows', () => {
    const rows = 2 * 8;
    const cols = 3;
    const m = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const interleaved = halfSplitToInterleaved(m, 2, 8, cols);
    // Head 0: new row 1 = old row 4 (i = 0 + headDim/2); head 1: new row 8+2 = old row 8+1.
    expect([...interleaved.subarray(1 * cols, 2 * cols)]).toEqual([12, 13, 14]);
    expect([...interleaved.subarray(10 * cols, 11 * cols)]).toEqual([27, 28, 29]);
    expect(interleavedToHalfSplit(interleaved, 2, 8, cols)).toEqual(m);
    expect(() => halfSplitToInterleaved(m, 2, 7, cols)).toThrow(/headDim 7 must be even/);
  });
});
