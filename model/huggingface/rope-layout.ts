/**
 * RoPE row layouts. Hugging Face Llama-family checkpoints rotate the pairs (i, i + headDim/2)
 * of each head ("rotate_half"); our model description rotates interleaved pairs (2i, 2i + 1)
 * (as Meta's original code and llama2.c do). Both use frequency θ^(−2i/headDim) for pair i,
 * so converting a checkpoint is a fixed permutation of the rows of wq and wk (and bq, bk)
 * within each head — the attention scores are unchanged because q and k move together.
 *
 * This is the inverse of the permutation llama2.c's export script applies to HF weights.
 */

/**
 * Half-split → interleaved, per head: new row 2i = old row i, new row 2i+1 = old row
 * i + headDim/2. `matrix` is [nHeads·headDim, cols] row-major (cols = 1 for a bias).
 */
export function halfSplitToInterleaved(matrix: Float32Array, nHeads: number, headDim: number, cols: number, rotaryDim = headDim): Float32Array {
  return permuteRows(matrix, nHeads, headDim, cols, 'toInterleaved', rotaryDim);
}

/** Interleaved → half-split, per head: the inverse of `halfSplitToInterleaved`. */
export function interleavedToHalfSplit(matrix: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  return permuteRows(matrix, nHeads, headDim, cols, 'toHalfSplit');
}

function permuteRows(
  matrix: Float32Array,
  nHeads: number,
  headDim: number,
  cols: number,
  direction: 'toInterleaved' | 'toHalfSplit',
  /** Partial rotary embedding: only the first rotaryDim rows of each head rotate (and move); the rest pass through. */
  rotaryDim = headDim,
): Float32Array {
  if (headDim % 2 !== 0) throw new RangeError(`RoPE layout: headDim ${headDim} must be even`);
  if (rotaryDim % 2 !== 0 || rotaryDim > headDim || rotaryDim <= 0) throw new RangeError(`RoPE layout: rotaryDim ${rotaryDim} must be even and in 2..${headDim}`);
  if (matrix.length !== nHeads * headDim * cols) {
    throw new RangeError(`RoPE layout: matrix has ${matrix.length} values, expected ${nHeads}·${headDim}·${cols}`);
  }
  const out = Float32Array.from(matrix); // rows past rotaryDim stay where they are
  const half = rotaryDim / 2;
  for (let h = 0; h < nHeads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      for (const [interleaved, halfSplit] of [[2 * i, i], [2 * i + 1, i + half]] as const) {
        const [to, from] = direction === 'toInterleaved' ? [interleaved, halfSplit] : [halfSplit, interleaved];
        out.set(matrix.subarray((base + from) * cols, (base + from + 1) * cols), (base + to) * cols);
      }
    }
  }
  return out;
}
