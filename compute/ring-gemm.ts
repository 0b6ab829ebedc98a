/**
 * Exact matrix products over Z_2^64 through the compute backend's float64 GEMMs.
 *
 * Every 64-bit operand is split into four 16-bit limbs (value = Σ a_k 2^(16k)); a product of two
 * ring elements mod 2^64 only needs the limb pairs with i + j < 4. Limb products are exact in
 * float64 while their sums stay below 2^53:
 * - ring × integer weight (|w| < 2^15, the engine's int16 weights): |a_k · w| < 2^31, so one
 *   GEMM of the four limb matrices stacked as rows, [4·rows, K] · Wᵀ, is exact for K < 2^21.
 * - ring × ring (the dealer's f(U, V), the gateway's f(X − U, V), the Beaver terms): per output
 *   limb position s the pairs (i, s − i) are concatenated along K, so 4 GEMMs with K' = (s+1)·K
 *   (10 limb products in all), exact for K < 2^19 (2^32 · 4K < 2^53).
 * The float64 results are exact integers; `combineLimbs` carries them back into the ring.
 */
import type { ComputeBackend } from './compute-backend.js';
import { combineLimbs, splitLimbs, words, type Ring } from './ring64.js';

/** Largest inner dimension for which the ring × ring limb GEMMs stay exact. */
export const MAX_RING_RING_K = 2 ** 19;
/** Largest inner dimension for which ring × int16 limb GEMMs stay exact. */
export const MAX_RING_INT_K = 2 ** 21;

function checkShape(name: string, length: number, rows: number, cols: number): void {
  if (length !== rows * cols) throw new RangeError(`${name}: expected ${rows}x${cols} = ${rows * cols} elements, got ${length}`);
}

function asFloat(w: Float64Array | Int16Array): Float64Array {
  // The engine stores its weights as int16; the float64 copy lives only for this product.
  return w instanceof Float64Array ? w : Float64Array.from(w);
}

/**
 * y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64, for an integer weight W[outDim, inDim] with
 * |W| < 2^15 (int16, or float64 holding such integers).
 */
export async function ringLinearInt(backend: ComputeBackend, x: Ring, rows: number, w: Float64Array | Int16Array, outDim: number, inDim: number): Promise<Ring> {
  checkShape('ringLinearInt input', x.length, rows, inDim);
  checkShape('ringLinearInt weight', w.length, outDim, inDim);
  if (inDim >= MAX_RING_INT_K) throw new RangeError(`ringLinearInt: inner dimension ${inDim} is too large for exact limb products`);
  const limbs = splitLimbs(x); // [4·rows, inDim]
  const y = await backend.linear(limbs, 4 * rows, asFloat(w), outDim, inDim);
  const out = new BigUint64Array(rows * outDim);
  const z = words(out);
  const block = rows * outDim;
  for (let i = 0; i < block; i++) combineLimbs(z, i, y[i]!, y[block + i]!, y[2 * block + i]!, y[3 * block + i]!);
  return out;
}

/**
 * y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64 for a ring weight W[outDim, inDim]
 * (4 GEMMs over concatenated limb pairs, see the file comment).
 */
export async function ringLinearRing(backend: ComputeBackend, x: Ring, rows: number, w: Ring, outDim: number, inDim: number): Promise<Ring> {
  checkShape('ringLinearRing input', x.length, rows, inDim);
  checkShape('ringLinearRing weight', w.length, outDim, inDim);
  if (inDim >= MAX_RING_RING_K) throw new RangeError(`ringLinearRing: inner dimension ${inDim} is too large for exact limb products`);
  const xl = splitLimbs(x);
  const wl = splitLimbs(w);
  const nx = rows * inDim;
  const nw = outDim * inDim;
  const parts: Float64Array[] = [];
  for (let s = 0; s < 4; s++) {
    const k = (s + 1) * inDim;
    const a = new Float64Array(rows * k);
    const b = new Float64Array(outDim * k);
    for (let i = 0; i <= s; i++) {
      // a's column block i holds x's limb i; b's block i holds W's limb s − i.
      const xi = xl.subarray(i * nx, (i + 1) * nx);
      const wj = wl.subarray((s - i) * nw, (s - i + 1) * nw);
      for (let r = 0; r < rows; r++) a.set(xi.subarray(r * inDim, (r + 1) * inDim), r * k + i * inDim);
      for (let o = 0; o < outDim; o++) b.set(wj.subarray(o * inDim, (o + 1) * inDim), o * k + i * inDim);
    }
    parts.push(await backend.linear(a, rows, b, outDim, k));
  }
  const out = new BigUint64Array(rows * outDim);
  const z = words(out);
  const [t0, t1, t2, t3] = parts as [Float64Array, Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < out.length; i++) combineLimbs(z, i, t0[i]!, t1[i]!, t2[i]!, t3[i]!);
  return out;
}

/** [rows, cols] → [cols, rows] for ring matrices. */
export function ringTranspose(a: Ring, rows: number, cols: number): Ring {
  checkShape('ringTranspose', a.length, rows, cols);
  const out = new BigUint64Array(a.length);
  const x = words(a);
  const z = words(out);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = 2 * (r * cols + c);
      const d = 2 * (c * rows + r);
      z[d] = x[s]!;
      z[d + 1] = x[s + 1]!;
    }
  }
  return out;
}

/** y[m, n] = a[m, k] · b[k, n] mod 2^64 (ring × ring). */
export function ringMatmulRing(backend: ComputeBackend, a: Ring, m: number, k: number, b: Ring, n: number): Promise<Ring> {
  return ringLinearRing(backend, a, m, ringTranspose(b, k, n), n, k);
}
