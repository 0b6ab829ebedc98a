/**
 * gpt-oss's attention sinks: a learned logit z_h per head joins the softmax over the keys as one
 * more entry without a value, p_s = e^(x_s) / (e^(z_h) + Σ_t e^(x_t)), so a head may attend to
 * "nothing". Row-wise like softmax, so a private form would be the softmax Elem with z_h added
 * to the permuted row (not built yet: protocol/model/private-steps.ts refuses such models).
 */
import type { FloatArray } from './float-array.js';

/** Softmax with a sink logit, in place over x[offset, offset + length). */
export function softmaxWithSinkInPlace(x: FloatArray, offset: number, length: number, sink: number): void {
  if (length <= 0 || offset < 0 || offset + length > x.length) throw new RangeError(`softmaxWithSink: range [${offset}, ${offset + length}) outside the array (${x.length} elements)`);
  let max = sink;
  for (let i = offset; i < offset + length; i++) if (x[i]! > max) max = x[i]!;
  let sum = Math.exp(sink - max);
  for (let i = offset; i < offset + length; i++) {
    const e = Math.exp(x[i]! - max);
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = offset; i < offset + length; i++) x[i] = x[i]! * inv;
}
