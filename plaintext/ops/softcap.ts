/**
 * Gemma 2's logit soft-capping: z → cap·tanh(z/cap), applied to the scaled attention scores
 * (attn_logit_softcapping) and to the final logits (final_logit_softcapping). Monotone and
 * element-wise; it bounds |z| below cap.
 */
import type { FloatArray } from './float-array.js';

export function softcap(z: number, cap: number): number {
  return cap * Math.tanh(z / cap);
}

/** Soft-caps x[from, to) in place. */
export function softcapInPlace(x: FloatArray, cap: number, from = 0, to = x.length): void {
  if (!(cap > 0)) throw new RangeError(`softcap: cap must be positive, got ${cap}`);
  for (let i = from; i < to; i++) x[i] = cap * Math.tanh(x[i]! / cap);
}
