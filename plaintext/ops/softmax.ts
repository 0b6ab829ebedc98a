/**
 * Softmax, stable (max subtracted). Row-wise softmax commutes with permuting a row's entries,
 * which is what lets the private protocol run it on P1's permuted view (a row-wise Elem).
 */
import type { FloatArray } from './float-array.js';

/** Softmax in place over x[offset, offset + length). */
export function softmaxInPlace(x: FloatArray, offset = 0, length = x.length - offset): void {
  if (length <= 0 || offset < 0 || offset + length > x.length) throw new RangeError(`softmax: range [${offset}, ${offset + length}) outside the array (${x.length} elements)`);
  let max = -Infinity;
  for (let i = offset; i < offset + length; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = offset; i < offset + length; i++) {
    const e = Math.exp(x[i]! - max);
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = offset; i < offset + length; i++) x[i] = x[i]! * inv;
}

/** Softmax in place over each row of x[rows, cols]. */
export function softmaxRows(x: FloatArray, rows: number, cols: number): void {
  if (x.length !== rows * cols) throw new RangeError(`softmaxRows x: expected ${rows}x${cols} = ${rows * cols} elements, got ${x.length}`);
  for (let r = 0; r < rows; r++) softmaxInPlace(x, r * cols, cols);
}
