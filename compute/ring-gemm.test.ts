import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { defaultBackend } from './onnx-backend.js';
import { planarInt16, planarRing, ringLinearInt, ringLinearPlanar, ringLinearRing, ringMatmulRing, toLimbPlanes } from './ring-gemm.js';
import { decodeFixed, encodeFixed, ringAdd, ringFromIntegers, ringScale, ringSub, ringToNumbers, type Ring } from './ring64.js';

const M = 1n << 64n;
const randomRing = (n: number): Ring => new BigUint64Array(randomBytes(8 * n).buffer);
const toSigned = (v: bigint) => (v >= 1n << 63n ? v - M : v);

/** BigInt reference: y[r, o] = Σ_k x[r, k] · w[o, k] mod 2^64. */
function referenceLinear(x: Ring, rows: number, w: ArrayLike<bigint | number>, outDim: number, inDim: number): BigUint64Array {
  const out = new BigUint64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = 0n;
      for (let k = 0; k < inDim; k++) acc += x[r * inDim + k]! * BigInt(w[o * inDim + k]!);
      out[r * outDim + o] = ((acc % M) + M) % M;
    }
  }
  return out;
}

describe('ring64 element arithmetic', () => {
  it('adds, subtracts and scales mod 2^64 exactly like BigInt', () => {
    const a = randomRing(500);
    const b = randomRing(500);
    // Edge values: carries and borrows across the 32-bit boundary.
    a.set([0n, M - 1n, 0xffffffffn, 1n << 63n]);
    b.set([M - 1n, M - 1n, 1n, 1n << 63n]);
    const sum = ringAdd(a, b);
    const diff = ringSub(a, b);
    const scaled = ringScale(a, -12345);
    for (let i = 0; i < a.length; i++) {
      expect(sum[i]).toBe((a[i]! + b[i]!) % M);
      expect(diff[i]).toBe((a[i]! - b[i]! + M) % M);
      expect(scaled[i]).toBe((((a[i]! * -12345n) % M) + M) % M);
    }
  });

  it('encodes fixed-point values in two’s complement and decodes them back', () => {
    const values = [0, 1.5, -1.5, -3.25e-3, 1234.0625, -(2 ** 40)];
    const ring = encodeFixed(values, 10);
    expect(toSigned(ring[2]!)).toBe(BigInt(Math.round(-1.5 * 1024)));
    expect(Array.from(decodeFixed(ring, 10))).toEqual(values.map((v) => Math.round(v * 1024) / 1024));
    expect(() => encodeFixed([2 ** 60], 10)).toThrow(/does not fit/);
    expect(toSigned(encodeFixed([-(2 ** 52) * 3], 8)[0]!)).toBe(-(2n ** 60n) * 3n);
    expect(Array.from(ringToNumbers(ringFromIntegers([-(2 ** 52), 2 ** 52 - 1])))).toEqual([-(2 ** 52), 2 ** 52 - 1]);
  });
});

describe('exact ring GEMMs through the float64 backend', () => {
  const backend = defaultBackend();

  it('ring × int16 weight equals the BigInt reference bit for bit (K = 300)', async () => {
    const [rows, outDim, inDim] = [3, 17, 300];
    const x = randomRing(rows * inDim);
    const w = Int16Array.from({ length: outDim * inDim }, (_, i) => ((i * 7919) % 65535) - 32767);
    w[0] = -32768;
    w[1] = 32767;
    const y = await ringLinearInt(backend, x, rows, w, outDim, inDim);
    expect(Array.from(y)).toEqual(Array.from(referenceLinear(x, rows, w, outDim, inDim)));
    // Without the backend's int16 path (transient float64 copy): the same.
    const plain = { name: 'no-int16', linear: backend.linear.bind(backend), matmul: backend.matmul.bind(backend) };
    expect(Array.from(await ringLinearInt(plain, x, rows, w, outDim, inDim))).toEqual(Array.from(y));
  });

  it('ring × ring equals the BigInt reference bit for bit, including all-ones operands', async () => {
    const [rows, outDim, inDim] = [4, 9, 257];
    const x = randomRing(rows * inDim);
    const w = randomRing(outDim * inDim);
    x.fill(M - 1n, 0, inDim); // worst case for the limb sums: every limb 0xffff
    w.fill(M - 1n, 0, inDim);
    const y = await ringLinearRing(backend, x, rows, w, outDim, inDim);
    expect(Array.from(y)).toEqual(Array.from(referenceLinear(x, rows, w, outDim, inDim)));
    // The stored limb-plane form (uint16, widened inside onnxruntime) gives the same residues.
    expect(Array.from(await ringLinearRing(backend, x, rows, toLimbPlanes(w), outDim, inDim))).toEqual(Array.from(y));
  });

  it('small products (computed in JS) and large ones (through the backend) agree with the reference', async () => {
    for (const [rows, outDim, inDim] of [[2, 5, 40], [3, 64, 200]] as const) {
      const x = randomRing(rows * inDim);
      const w = randomRing(outDim * inDim);
      expect(Array.from(await ringLinearRing(backend, x, rows, w, outDim, inDim))).toEqual(Array.from(referenceLinear(x, rows, w, outDim, inDim)));
    }
  });

  it('planar products (small ones in JS, others as exact int32 GEMMs) match the reference, including K beyond one int32 chunk', async () => {
    for (const [rows, outDim, inDim] of [[2, 7, 50], [3, 64, 300], [1, 2, 40000]] as const) {
      const x = randomRing(rows * inDim);
      x.fill(M - 1n, 0, Math.min(inDim, 1000)); // all-ones limbs: the int32 worst case
      const wInt = Int16Array.from({ length: outDim * inDim }, (_, i) => ((i * 7919) % 65535) - 32767);
      wInt.fill(-32768, 0, Math.min(inDim, 1000));
      const wRing = randomRing(outDim * inDim);
      wRing.fill(M - 1n, 0, Math.min(inDim, 1000));
      expect(Array.from(await ringLinearPlanar(backend, x, rows, planarInt16(wInt, outDim, inDim), outDim, inDim))).toEqual(Array.from(referenceLinear(x, rows, wInt, outDim, inDim)));
      expect(Array.from(await ringLinearPlanar(backend, x, rows, planarRing(wRing, outDim, inDim), outDim, inDim))).toEqual(Array.from(referenceLinear(x, rows, wRing, outDim, inDim)));
    }
  });

  it('ring matmul a[m,k]·b[k,n] matches the reference', async () => {
    const [m, k, n] = [5, 33, 7];
    const a = randomRing(m * k);
    const b = randomRing(k * n);
    const bT = new Array<bigint>(n * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) bT[j * k + i] = b[i * n + j]!;
    const y = await ringMatmulRing(backend, a, m, k, b, n);
    expect(Array.from(y)).toEqual(Array.from(referenceLinear(a, m, bT, n, k)));
  });
});
