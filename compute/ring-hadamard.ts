/**
 * Element-wise products in Z_2^64 (a ⊙ b mod 2^64), exact. Used where one operand is a short
 * vector (the final norm's γ in the embedding pass), so plain BigInt arithmetic is fast enough:
 * a few thousand elements per call.
 */
import type { Ring } from './ring64.js';

export function ringHadamard(a: Ring, b: Ring, out: Ring = new BigUint64Array(a.length)): Ring {
  if (a.length !== b.length || out.length !== a.length) throw new RangeError(`ringHadamard: sizes ${a.length}, ${b.length} and ${out.length} differ`);
  for (let i = 0; i < a.length; i++) out[i] = BigInt.asUintN(64, a[i]! * b[i]!);
  return out;
}
