/**
 * The diagonal map of the `ring64` profile: z[r, i] = w[i] · y[r, i] mod 2^64 for a weight
 * vector w (int16 at the engine and in the fixed-point oracle, ring elements at the gateway and
 * the dealer). It carries RMSNorm weights γ that cannot be folded into a following matrix
 * (Gemma's post-attention and post-feedforward norms, whose output is added to the residual).
 * Exact: 16-bit limbs, each product below 2^32, sums below 2^34, carried back by combineLimbs.
 */
import { combineLimbs, words, type Ring } from '../../compute/ring64.js';

/** y [rows, w.length] times w on every row, mod 2^64. */
export function ringDiagonal(w: Int16Array | Ring, y: Ring, rows: number): Ring {
  const n = w.length;
  if (y.length !== rows * n) throw new RangeError(`ringDiagonal: y has ${y.length} elements, expected ${rows}x${n}`);
  const out = new BigUint64Array(y.length);
  const z = words(out);
  const a = words(y);
  if (w instanceof Int16Array) {
    for (let i = 0; i < y.length; i++) {
      const c = w[i % n]!;
      const lo = a[2 * i]!;
      const hi = a[2 * i + 1]!;
      combineLimbs(z, i, (lo & 0xffff) * c, (lo >>> 16) * c, (hi & 0xffff) * c, (hi >>> 16) * c);
    }
    return out;
  }
  const b = words(w);
  for (let i = 0; i < y.length; i++) {
    const j = i % n;
    const lo = a[2 * i]!;
    const hi = a[2 * i + 1]!;
    const a0 = lo & 0xffff, a1 = lo >>> 16, a2 = hi & 0xffff, a3 = hi >>> 16;
    const blo = b[2 * j]!;
    const bhi = b[2 * j + 1]!;
    const b0 = blo & 0xffff, b1 = blo >>> 16, b2 = bhi & 0xffff, b3 = bhi >>> 16;
    combineLimbs(z, i, a0 * b0, a0 * b1 + a1 * b0, a0 * b2 + a1 * b1 + a2 * b0, a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0);
  }
  return out;
}
