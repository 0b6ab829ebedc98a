/**
 * Exact matrix products over Z_2^64 through the compute backend's float64 GEMMs.
 *
 * Every 64-bit operand is split into four 16-bit limbs (value = Σ a_k 2^(16k)); a product of two
 * ring elements mod 2^64 only needs the limb pairs with i + j < 4. Limb products are exact in
 * float64 while their sums stay below 2^53:
 * - ring × integer weight (|w| < 2^15, the engine's int16 weights): |a_k · w| < 2^31, so one
 *   GEMM of the four limb matrices stacked as rows, [4·rows, K] · Wᵀ, is exact for K < 2^21.
 * - ring × ring (the dealer's f(U, V), the gateway's f(X − U, V), the Beaver terms): 4 GEMMs,
 *   one per weight limb j with the input limbs 0..3−j stacked as rows (10 limb products in all);
 *   the up to 4 products landing on one limb position add up exactly for K < 2^19
 *   (4 · 2^32 · K < 2^53).
 * The float64 results are exact integers; `combineLimbs` carries them back into the ring.
 */
import type { ComputeBackend } from './compute-backend.js';
import { combineLimbs, splitLimbs, words, type Ring } from './ring64.js';
import type { Int16Planes, PlanarWeight, RingPlanes } from './ring-weight.js';

/** Largest inner dimension for which the ring × ring limb GEMMs stay exact. */
export const MAX_RING_RING_K = 2 ** 19;
/** Largest inner dimension for which ring × int16 limb GEMMs stay exact. */
export const MAX_RING_INT_K = 2 ** 21;

function checkShape(name: string, length: number, rows: number, cols: number): void {
  if (length !== rows * cols) throw new RangeError(`${name}: expected ${rows}x${cols} = ${rows * cols} elements, got ${length}`);
}

/** x · wᵀ in float64 for a 16-bit integer weight: widened inside the backend when it can, else a transient copy. */
function linear16(backend: ComputeBackend, x: Float64Array, rows: number, w: Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Float64Array> {
  if (backend.linearInt16) return backend.linearInt16(x, rows, w, outDim, inDim);
  return backend.linear(x, rows, Float64Array.from(w), outDim, inDim);
}

/**
 * A ring matrix as four uint16 limb planes (plane k = limb k of every element, row-major):
 * the same 8 bytes per element as BigUint64Array, in the form the limb GEMMs consume directly.
 */
export function toLimbPlanes(a: Ring): Uint16Array {
  return splitLimbs(a, new Uint16Array(4 * a.length));
}

/**
 * y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64, for an integer weight W[outDim, inDim] with
 * |W| < 2^15 (int16, or float64 holding such integers).
 */
export async function ringLinearInt(backend: ComputeBackend, x: Ring, rows: number, w: Float64Array | Int16Array | Uint16Array, outDim: number, inDim: number): Promise<Ring> {
  checkShape('ringLinearInt input', x.length, rows, inDim);
  checkShape('ringLinearInt weight', w.length, outDim, inDim);
  // A Uint16Array here is an unsigned integer weight, not limb planes (RingWeight's meaning of it): widened first.
  if (backend.ringLinear) return backend.ringLinear(x, rows, w instanceof Uint16Array ? Float64Array.from(w) : w, outDim, inDim);
  if (inDim >= MAX_RING_INT_K) throw new RangeError(`ringLinearInt: inner dimension ${inDim} is too large for exact limb products`);
  const limbs = splitLimbs(x); // [4·rows, inDim]
  const y = w instanceof Float64Array ? await backend.linear(limbs, 4 * rows, w, outDim, inDim) : await linear16(backend, limbs, 4 * rows, w, outDim, inDim);
  const out = new BigUint64Array(rows * outDim);
  const z = words(out);
  const block = rows * outDim;
  for (let i = 0; i < block; i++) combineLimbs(z, i, y[i]!, y[block + i]!, y[2 * block + i]!, y[3 * block + i]!);
  return out;
}

/** Limb k (0..3) of every element of a ring array, as float64 (a transient GEMM operand). */
function limbOf(a: Ring, k: number): Float64Array {
  const x = words(a);
  const out = new Float64Array(a.length);
  const word = k >> 1;
  const shift = (k & 1) * 16;
  for (let i = 0; i < a.length; i++) out[i] = (x[2 * i + word]! >>> shift) & 0xffff;
  return out;
}

function weightLimb(backend: ComputeBackend, x: Float64Array, rows: number, w: Ring | Uint16Array, j: number, outDim: number, inDim: number): Promise<Float64Array> {
  if (w instanceof Uint16Array) return linear16(backend, x, rows, w.subarray(j * outDim * inDim, (j + 1) * outDim * inDim), outDim, inDim);
  return backend.linear(x, rows, limbOf(w, j), outDim, inDim);
}

/**
 * y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64 for a ring weight W[outDim, inDim], given as
 * ring elements or as limb planes (toLimbPlanes; the stored form of the gateway's X − U and the
 * dealer's U, widened to float64 inside the backend). One GEMM per weight limb j: the input limbs 0..3−j stacked as rows times W's limb j, so block
 * i of the result is the limb product at position i + j. Only one weight limb exists as float64
 * at a time (8 bytes per parameter, transient).
 */
export async function ringLinearRing(backend: ComputeBackend, x: Ring, rows: number, w: Ring | Uint16Array, outDim: number, inDim: number): Promise<Ring> {
  checkShape('ringLinearRing input', x.length, rows, inDim);
  checkShape('ringLinearRing weight', w instanceof Uint16Array ? w.length / 4 : w.length, outDim, inDim);
  if (rows * outDim * inDim > SMALL_PRODUCT_MACS && backend.ringLinear) return backend.ringLinear(x, rows, w, outDim, inDim, { resident: w instanceof Uint16Array });
  if (inDim >= MAX_RING_RING_K) throw new RangeError(`ringLinearRing: inner dimension ${inDim} is too large for exact limb products`);
  if (rows * outDim * inDim <= SMALL_PRODUCT_MACS) return ringLinearRingDirect(x, rows, w instanceof Uint16Array ? w : toLimbPlanes(w), outDim, inDim);
  const xl = splitLimbs(x); // limb-major: blocks 0..3 of [rows, inDim]
  const block = rows * outDim;
  const t = new Float64Array(4 * block); // t[s] = Σ_{i+j=s} x_i · w_jᵀ, exact (< 2^53 for inDim < 2^19)
  for (let j = 0; j < 4; j++) {
    const stacked = 4 - j;
    const y = await weightLimb(backend, xl.subarray(0, stacked * rows * inDim), stacked * rows, w, j, outDim, inDim);
    for (let i = 0; i < stacked; i++) {
      const dst = (i + j) * block;
      const src = i * block;
      for (let e = 0; e < block; e++) t[dst + e]! += y[src + e]!;
    }
  }
  const out = new BigUint64Array(block);
  const z = words(out);
  for (let e = 0; e < block; e++) combineLimbs(z, e, t[e]!, t[block + e]!, t[2 * block + e]!, t[3 * block + e]!);
  return out;
}

/**
 * Products at most this large (rows · outDim · inDim) are computed in JS with the same limb
 * arithmetic instead of four backend calls: the per-head attention products of small models,
 * where the calls' overhead would dominate. Same exact residues either way.
 */
export const SMALL_PRODUCT_MACS = 1 << 15;

function ringLinearRingDirect(x: Ring, rows: number, wl: Uint16Array, outDim: number, inDim: number): Ring {
  const xl = splitLimbs(x);
  const nx = rows * inDim;
  const nw = outDim * inDim;
  const out = new BigUint64Array(rows * outDim);
  const z = words(out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let k = 0; k < inDim; k++) {
        const xi = r * inDim + k;
        const wi = o * inDim + k;
        const a0 = xl[xi]!, a1 = xl[nx + xi]!, a2 = xl[2 * nx + xi]!, a3 = xl[3 * nx + xi]!;
        const b0 = wl[wi]!, b1 = wl[nw + wi]!, b2 = wl[2 * nw + wi]!, b3 = wl[3 * nw + wi]!;
        t0 += a0 * b0;
        t1 += a0 * b1 + a1 * b0;
        t2 += a0 * b2 + a1 * b1 + a2 * b0;
        t3 += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
      }
      combineLimbs(z, r * outDim + o, t0, t1, t2, t3);
    }
  }
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

/*
 * Planar weights for the parties' hot path: byte limbs into exact int32 GEMMs (onnxruntime
 * MatMulInteger, ComputeBackend.matmulU8), stored transposed [inDim, outDim] as the GEMM reads
 * them. Ring activations are split into 8 byte limbs; an int16 weight is lo (uint8) + 256·hi
 * (int8), 2 bytes per parameter; a ring weight is 8 uint8 planes, 8 bytes per parameter. A
 * GEMM reads each weight byte once per plane: 2 bytes per parameter per product at the engine,
 * 8 at the gateway and the dealer, against 8 for a float64 weight. The int32 sums are exact for
 * K ≤ 32768 (255 · 128 · 32768 < 2^31); longer inner dimensions (one-hot rows over a large
 * vocabulary) are cut into chunks whose sums are added in float64, still exact.
 */

export type { Int16Planes, PlanarWeight, RingPlanes } from './ring-weight.js';

const K_CHUNK = 32768;

export function planarBytes(w: PlanarWeight): number {
  return w.kind === 'int16' ? w.lo.byteLength + w.hi.byteLength : w.bytes.byteLength;
}

export function planarInt16(w: Int16Array, outDim: number, inDim: number): Int16Planes {
  checkShape('planarInt16', w.length, outDim, inDim);
  const lo = new Uint8Array(w.length);
  const hi = new Int8Array(w.length);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      const v = w[o * inDim + i]!;
      lo[i * outDim + o] = v & 0xff;
      hi[i * outDim + o] = v >> 8; // arithmetic shift: v = 256·hi + lo
    }
  }
  return { kind: 'int16', lo, hi };
}

export function planarRing(w: Ring, outDim: number, inDim: number): RingPlanes {
  checkShape('planarRing', w.length, outDim, inDim);
  const src = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  const n = w.length;
  const bytes = new Int8Array(8 * n);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      const e = 8 * (o * inDim + i);
      const d = i * outDim + o;
      let carry = 0;
      for (let b = 0; b < 8; b++) {
        const v = src[e + b]! + carry; // 0..256
        carry = v >= 128 ? 1 : 0;
        bytes[b * n + d] = v - 256 * carry; // the carry out of byte 7 is 2^64: dropped
      }
    }
  }
  return { kind: 'ring', bytes };
}

/** Byte limbs of x[rows, inDim], limb-major: out[(b·rows + r)·inDim + i]. */
function splitBytes(x: Ring, rows: number, inDim: number): Uint8Array {
  const src = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const n = rows * inDim;
  const out = new Uint8Array(8 * n);
  for (let e = 0; e < n; e++) for (let b = 0; b < 8; b++) out[b * n + e] = src[8 * e + b]!;
  return out;
}

/** Σ over K chunks of a[m, K] · b[K, n] (b a [K, n] plane), added into acc (float64, exact). */
async function chunkedProduct(backend: ComputeBackend & { matmulU8: NonNullable<ComputeBackend['matmulU8']> }, a: Uint8Array, m: number, K: number, b: Uint8Array | Int8Array, n: number, add: (y: Int32Array) => void): Promise<void> {
  if (K <= K_CHUNK) return add(await backend.matmulU8(a, m, K, b, n));
  for (let k0 = 0; k0 < K; k0 += K_CHUNK) {
    const k1 = Math.min(K, k0 + K_CHUNK);
    const part = new Uint8Array(m * (k1 - k0));
    for (let r = 0; r < m; r++) part.set(a.subarray(r * K + k0, r * K + k1), r * (k1 - k0));
    add(await backend.matmulU8(part, m, k1 - k0, b.subarray(k0 * n, k1 * n), n));
  }
}

/** Rebuilds the row-major [outDim, inDim] form (the fallback for backends without 8-bit products). */
/** A planar weight back in row-major form (int16, or ring elements). */
export function unplanar(w: PlanarWeight, outDim: number, inDim: number): Int16Array | Ring {
  const n = outDim * inDim;
  if (w.kind === 'int16') {
    const out = new Int16Array(n);
    for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) out[o * inDim + i] = 256 * w.hi[i * outDim + o]! + w.lo[i * outDim + o]!;
    return out;
  }
  const out = new BigUint64Array(n);
  const z = words(out);
  const p = w.bytes;
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) {
      const d = i * outDim + o;
      combineLimbs(z, o * inDim + i, p[d]! + 256 * p[n + d]!, p[2 * n + d]! + 256 * p[3 * n + d]!, p[4 * n + d]! + 256 * p[5 * n + d]!, p[6 * n + d]! + 256 * p[7 * n + d]!);
    }
  }
  return out;
}

/** Small planar products in JS: 16-bit limbs of x against the weight's 16-bit limbs read from its byte planes. */
function planarDirect(x: Ring, rows: number, w: PlanarWeight, outDim: number, inDim: number): Ring {
  const xl = splitLimbs(x);
  const nx = rows * inDim;
  const n = outDim * inDim;
  const out = new BigUint64Array(rows * outDim);
  const z = words(out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let k = 0; k < inDim; k++) {
        const xi = r * inDim + k;
        const wi = k * outDim + o;
        const a0 = xl[xi]!, a1 = xl[nx + xi]!, a2 = xl[2 * nx + xi]!, a3 = xl[3 * nx + xi]!;
        if (w.kind === 'int16') {
          const v = 256 * w.hi[wi]! + w.lo[wi]!;
          t0 += a0 * v;
          t1 += a1 * v;
          t2 += a2 * v;
          t3 += a3 * v;
        } else {
          const p = w.bytes;
          const b0 = p[wi]! + 256 * p[n + wi]!, b1 = p[2 * n + wi]! + 256 * p[3 * n + wi]!;
          const b2 = p[4 * n + wi]! + 256 * p[5 * n + wi]!, b3 = p[6 * n + wi]! + 256 * p[7 * n + wi]!;
          t0 += a0 * b0;
          t1 += a0 * b1 + a1 * b0;
          t2 += a0 * b2 + a1 * b1 + a2 * b0;
          t3 += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
        }
      }
      combineLimbs(z, r * outDim + o, t0, t1, t2, t3);
    }
  }
  return out;
}

/** y[rows, outDim] = x[rows, inDim] · Wᵀ mod 2^64 for a planar weight (int16 at P0, ring at P1/P2). */
export async function ringLinearPlanar(backend: ComputeBackend, x: Ring, rows: number, w: PlanarWeight, outDim: number, inDim: number): Promise<Ring> {
  checkShape('ringLinearPlanar input', x.length, rows, inDim);
  const matmulU8 = backend.matmulU8?.bind(backend);
  if (rows * outDim * inDim <= SMALL_PRODUCT_MACS) return planarDirect(x, rows, w, outDim, inDim);
  if (backend.ringLinear) return backend.ringLinear(x, rows, w, outDim, inDim);
  if (!matmulU8) {
    const flat = unplanar(w, outDim, inDim);
    return flat instanceof Int16Array ? ringLinearInt(backend, x, rows, flat, outDim, inDim) : ringLinearRing(backend, x, rows, flat, outDim, inDim);
  }
  const b8 = { ...backend, name: backend.name, matmulU8 } as ComputeBackend & { matmulU8: typeof matmulU8 };
  const xb = splitBytes(x, rows, inDim);
  const block = rows * outDim;
  const t = new Float64Array(8 * block); // t[s]: byte position s
  const addBlocks = (shift: number, blocks: number) => (y: Int32Array) => {
    for (let i = 0; i < blocks && i + shift < 8; i++) {
      const dst = (i + shift) * block;
      const src = i * block;
      for (let e = 0; e < block; e++) t[dst + e]! += y[src + e]!;
    }
  };
  if (w.kind === 'int16') {
    await chunkedProduct(b8, xb, 8 * rows, inDim, w.lo, outDim, addBlocks(0, 8));
    await chunkedProduct(b8, xb.subarray(0, 7 * rows * inDim), 7 * rows, inDim, w.hi, outDim, addBlocks(1, 7));
  } else {
    const n = outDim * inDim;
    for (let j = 0; j < 8; j++) {
      await chunkedProduct(b8, xb.subarray(0, (8 - j) * rows * inDim), (8 - j) * rows, inDim, w.bytes.subarray(j * n, (j + 1) * n), outDim, addBlocks(j, 8 - j));
    }
  }
  const out = new BigUint64Array(block);
  const z = words(out);
  for (let e = 0; e < block; e++) {
    combineLimbs(z, e, t[e]! + 256 * t[block + e]!, t[2 * block + e]! + 256 * t[3 * block + e]!, t[4 * block + e]! + 256 * t[5 * block + e]!, t[6 * block + e]! + 256 * t[7 * block + e]!);
  }
  return out;
}
