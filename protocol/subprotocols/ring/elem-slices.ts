/**
 * P1's evaluation of a nonlinear step (Elem's η = f(π(x))) in bounded slices: row-wise
 * functions (RMSNorm, softmax) a block of whole rows at a time, element-wise paired ones (SwiGLU, GeGLU) a
 * block of positions of both halves at a time, yielding to the event loop between blocks when
 * the slice is due (compute/event-loop-slices.ts). Every output row (element) depends on its own
 * input row (element) only, so the concatenated blocks are bit for bit what one call returns.
 */
import { yieldIfDue } from '../../../compute/event-loop-slices.js';
import type { Ring } from '../../../compute/ring64.js';
import { RING_SLICE_ELEMENTS } from './ring-slices.js';

/** Elements per block, the ring passes' block (./ring-slices.ts): a softmax over 256 rows of 500 keys is some 8 blocks. */
export const ELEM_SLICE_ELEMENTS = RING_SLICE_ELEMENTS;

export type SliceableElem = { kind: 'rmsnorm' | 'softmax'; rows: number; cols: number } | { kind: 'swiglu' | 'geglu'; length: number };

export async function evaluateInSlices<F extends SliceableElem>(f: F, view: Ring, evaluate: (f: F, view: Ring) => Ring): Promise<Ring> {
  if (f.kind === 'swiglu' || f.kind === 'geglu') {
    const { length } = f;
    if (length <= ELEM_SLICE_ELEMENTS) return evaluate(f, view);
    const out = new BigUint64Array(length);
    for (let a = 0; a < length; a += ELEM_SLICE_ELEMENTS) {
      const b = Math.min(length, a + ELEM_SLICE_ELEMENTS);
      const both = new BigUint64Array(2 * (b - a));
      both.set(view.subarray(a, b), 0);
      both.set(view.subarray(length + a, length + b), b - a);
      out.set(evaluate({ ...f, length: b - a }, both), a);
      await yieldIfDue();
    }
    return out;
  }
  const { rows, cols } = f as Extract<SliceableElem, { rows: number }>;
  const step = Math.max(1, Math.floor(ELEM_SLICE_ELEMENTS / cols));
  if (rows <= step) return evaluate(f, view);
  const out = new BigUint64Array(rows * cols);
  for (let r = 0; r < rows; r += step) {
    const n = Math.min(step, rows - r);
    out.set(evaluate({ ...f, rows: n }, view.subarray(r * cols, (r + n) * cols)), r * cols);
    await yieldIfDue();
  }
  return out;
}
