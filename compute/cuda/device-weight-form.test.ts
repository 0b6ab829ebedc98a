/**
 * The host half of the GPU ring products, checked on the CPU: every weight form of the ring64
 * profile, turned into the single form the kernel reads (device-weight-form.ts) and multiplied
 * as the kernel multiplies (uint64 wrap-around, stated in BigInt), gives the residues of the CPU
 * limb path (compute/ring-gemm.ts on onnxruntime) bit for bit. The kernel itself is checked
 * against the same CPU path on a GPU (tests/gpu/cuda-exactness.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OnnxCpuBackend } from '../onnx-backend.js';
import { planarInt16, planarRing, ringLinearInt, ringLinearPlanar, ringLinearRing, toLimbPlanes } from '../ring-gemm.js';
import type { Ring } from '../ring64.js';
import type { RingWeight } from '../ring-weight.js';
import { deviceWeightForm, referenceRingProduct, weightIdentity } from './device-weight-form.js';

const M = 1n << 64n;
const randomRing = (n: number): Ring => new BigUint64Array(randomBytes(8 * n).buffer);
/** Random ring elements with the extremes planted: 0, 1, 2^63, 2^64 − 1, 2^64 − 2^32. */
function edgyRing(n: number): Ring {
  const a = randomRing(n);
  a.set([0n, 1n, 1n << 63n, M - 1n, M - (1n << 32n)].slice(0, n));
  return a;
}
function int16Weight(n: number): Int16Array {
  const w = new Int16Array(randomBytes(2 * n).buffer);
  w.set([-32768, 32767, -1, 0].slice(0, n));
  return w;
}

// Above SMALL_PRODUCT_MACS (2^15), so the CPU side runs its onnxruntime limb GEMMs.
const [rows, outDim, inDim] = [3, 40, 301];

describe('device weight forms reproduce the CPU ring products bit for bit', () => {
  const cpu = new OnnxCpuBackend();
  const x = edgyRing(rows * inDim);

  it('int16 weight W[out, in] (the engine): sign-extended int16, read transposed', async () => {
    const w = int16Weight(outDim * inDim);
    const form = deviceWeightForm(w, outDim, inDim);
    expect(form).toMatchObject({ bType: 1, transB: true });
    expect(form.data).toBe(w); // no copy
    expect(referenceRingProduct(x, rows, form, outDim, inDim)).toEqual(await ringLinearInt(cpu, x, rows, w, outDim, inDim));
  });

  it('float64 integer weight: int16 when it fits, ring elements when it does not', async () => {
    const small = Float64Array.from(int16Weight(outDim * inDim));
    const f = deviceWeightForm(small, outDim, inDim);
    expect(f.bType).toBe(1);
    expect(referenceRingProduct(x, rows, f, outDim, inDim)).toEqual(await ringLinearInt(cpu, x, rows, small, outDim, inDim));
    const wide = Float64Array.from(small, (v, i) => (i % 5 === 0 ? v * 3 : v)); // beyond int16, still exact in the CPU path
    const g = deviceWeightForm(wide, outDim, inDim);
    expect(g.bType).toBe(0);
    expect(referenceRingProduct(x, rows, g, outDim, inDim)).toEqual(await ringLinearInt(cpu, x, rows, wide, outDim, inDim));
  });

  it('ring weight W[out, in] and its uint16 limb planes (ring × ring)', async () => {
    const w = edgyRing(outDim * inDim);
    const expected = await ringLinearRing(cpu, x, rows, w, outDim, inDim);
    const direct = deviceWeightForm(w, outDim, inDim);
    expect(direct).toMatchObject({ bType: 0, transB: true });
    expect(referenceRingProduct(x, rows, direct, outDim, inDim)).toEqual(expected);
    const limbs = toLimbPlanes(w);
    const fromLimbs = deviceWeightForm(limbs, outDim, inDim);
    expect(fromLimbs.data).toEqual(w);
    expect(referenceRingProduct(x, rows, fromLimbs, outDim, inDim)).toEqual(await ringLinearRing(cpu, x, rows, limbs, outDim, inDim));
  });

  it('planar int16 and planar ring weights [in, out] (the parties\' stored forms), transposed once to W[out, in]', async () => {
    const wi = int16Weight(outDim * inDim);
    const pi = planarInt16(wi, outDim, inDim);
    const fi = deviceWeightForm(pi, outDim, inDim);
    expect(fi).toMatchObject({ bType: 1, transB: true });
    expect(fi.data).toEqual(wi);
    expect(referenceRingProduct(x, rows, fi, outDim, inDim)).toEqual(await ringLinearPlanar(cpu, x, rows, pi, outDim, inDim));
    const wr = edgyRing(outDim * inDim);
    const pr = planarRing(wr, outDim, inDim);
    const fr = deviceWeightForm(pr, outDim, inDim);
    expect(fr).toMatchObject({ bType: 0, transB: true });
    expect(fr.data).toEqual(wr);
    expect(referenceRingProduct(x, rows, fr, outDim, inDim)).toEqual(await ringLinearPlanar(cpu, x, rows, pr, outDim, inDim));
    expect(weightIdentity(pr)).toBe(pr.bytes);
    expect(weightIdentity(pi)).toBe(pi.lo);
  });

  it('refuses a weight whose size does not match the shape', () => {
    const bad: RingWeight[] = [new Int16Array(5), new BigUint64Array(5), new Uint16Array(20), new Float64Array(5), planarInt16(new Int16Array(6), 2, 3)];
    for (const w of bad) expect(() => deviceWeightForm(w, 2, 2)).toThrow(/expected 2x2 = 4 elements/);
  });
});
