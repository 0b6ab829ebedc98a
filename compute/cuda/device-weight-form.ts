/**
 * The one form in which a ring weight (compute/ring-weight.ts) lives on the device: int16 when
 * every element is a small integer (the engine's weights, 2 bytes per parameter), else uint64
 * ring elements (8 bytes per parameter), always row-major W[outDim, inDim] (the planar forms'
 * [inDim, outDim] planes are transposed once, while they are recombined at upload), so every
 * product reads rows of W contiguously: the decode kernel gives each output one warp striding
 * over a row. The kernel computes y = x · Wᵀ mod 2^64 over this form (native/cuda/permllm-cuda.cu,
 * plc_ring_gemm); `referenceRingProduct` states the same product in BigInt for the tests.
 */
import { combineLimbs, ringFromIntegers, words, type Ring } from '../ring64.js';
import { ringWeightElements, type RingWeight } from '../ring-weight.js';

export interface DeviceWeightForm {
  /** Element type on the device: 0 = uint64 ring elements, 1 = int16 (sign-extended into the ring). */
  readonly bType: 0 | 1;
  /** true: data is W[outDim, inDim] (row-major, as PyTorch), the form made here; false: data is Wᵀ, [inDim, outDim] (the kernel reads both). */
  readonly transB: boolean;
  readonly data: Int16Array | BigUint64Array;
}

/** Visits every (o, i) of an [inDim, outDim] plane (d = i · outDim + o) in 64 × 64 tiles, so the transposed writes stay in cache. */
function transposeBlocks(outDim: number, inDim: number, visit: (o: number, i: number, d: number) => void): void {
  const B = 64;
  for (let i0 = 0; i0 < inDim; i0 += B) {
    const i1 = Math.min(inDim, i0 + B);
    for (let o0 = 0; o0 < outDim; o0 += B) {
      const o1 = Math.min(outDim, o0 + B);
      for (let i = i0; i < i1; i++) for (let o = o0, d = i * outDim + o0; o < o1; o++, d++) visit(o, i, d);
    }
  }
}

function fitsInt16(w: Float64Array): boolean {
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    if (!Number.isInteger(v) || v < -32768 || v > 32767) return false;
  }
  return true;
}

/** The device form of a weight; throws RangeError when its size does not match outDim × inDim. */
export function deviceWeightForm(w: RingWeight, outDim: number, inDim: number): DeviceWeightForm {
  const n = outDim * inDim;
  if (ringWeightElements(w) !== n) throw new RangeError(`ring weight: expected ${outDim}x${inDim} = ${n} elements, got ${ringWeightElements(w)}`);
  if (w instanceof Int16Array) return { bType: 1, transB: true, data: w };
  if (w instanceof BigUint64Array) return { bType: 0, transB: true, data: w };
  if (w instanceof Float64Array) return fitsInt16(w) ? { bType: 1, transB: true, data: Int16Array.from(w) } : { bType: 0, transB: true, data: ringFromIntegers(w) };
  if (w instanceof Uint16Array) {
    // Four limb planes: element i = Σ_k plane_k[i] · 2^(16k).
    const out = new BigUint64Array(n);
    const z = words(out);
    for (let i = 0; i < n; i++) {
      z[2 * i] = w[i]! + w[n + i]! * 65536;
      z[2 * i + 1] = w[2 * n + i]! + w[3 * n + i]! * 65536;
    }
    return { bType: 0, transB: true, data: out };
  }
  // Planar planes are [inDim, outDim]: element (o, i) sits at d = i · outDim + o.
  if (w.kind === 'int16') {
    const out = new Int16Array(n);
    const { lo, hi } = w;
    transposeBlocks(outDim, inDim, (o, i, d) => (out[o * inDim + i] = 256 * hi[d]! + lo[d]!));
    return { bType: 1, transB: true, data: out };
  }
  // Signed byte digits: element = Σ_b d_b · 256^b mod 2^64, combined per 16-bit limb.
  const p = w.bytes;
  const out = new BigUint64Array(n);
  const z = words(out);
  transposeBlocks(outDim, inDim, (o, i, d) =>
    combineLimbs(z, o * inDim + i, p[d]! + 256 * p[n + d]!, p[2 * n + d]! + 256 * p[3 * n + d]!, p[4 * n + d]! + 256 * p[5 * n + d]!, p[6 * n + d]! + 256 * p[7 * n + d]!),
  );
  return { bType: 0, transB: true, data: out };
}

/** The host operand of a weight, for the identity of its resident copy (the typed array that owns the data). */
export function weightIdentity(w: RingWeight): object {
  if (ArrayBuffer.isView(w)) return w;
  return w.kind === 'int16' ? w.lo : w.bytes;
}

/** y = x · Wᵀ mod 2^64 over a device form, in BigInt: the statement of what the kernel computes (slow; tests only). */
export function referenceRingProduct(x: Ring, rows: number, form: DeviceWeightForm, outDim: number, inDim: number): Ring {
  const out = new BigUint64Array(rows * outDim);
  const mask = (1n << 64n) - 1n;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0n;
      for (let k = 0; k < inDim; k++) {
        const wi = form.transB ? o * inDim + k : k * outDim + o;
        const wv = BigInt(form.data[wi]!);
        s += x[r * inDim + k]! * (wv < 0n ? wv & mask : wv);
      }
      out[r * outDim + o] = s & mask;
    }
  }
  return out;
}
