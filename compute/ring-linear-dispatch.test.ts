/**
 * compute/ring-gemm.ts hands its products to a backend's native ring product (ringLinear, the GPU
 * backend's) when the backend has one, with the weight form it holds and whether it is resident,
 * and keeps its own limb path otherwise. The native side here is a CPU statement of the kernel's
 * arithmetic (device-weight-form.ts's BigInt reference), so the results must agree either way.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ComputeBackend, RingLinearOptions } from './compute-backend.js';
import { deviceWeightForm, referenceRingProduct } from './cuda/device-weight-form.js';
import { OnnxCpuBackend } from './onnx-backend.js';
import { planarInt16, planarRing, ringLinearInt, ringLinearPlanar, ringLinearRing, ringMatmulRing, SMALL_PRODUCT_MACS, toLimbPlanes } from './ring-gemm.js';
import type { RingWeight } from './ring-weight.js';

const randomRing = (n: number) => new BigUint64Array(randomBytes(8 * n).buffer);

/** The CPU backend plus a ringLinear that records its calls. */
function withRingLinear(): ComputeBackend & { calls: { weight: RingWeight; resident: boolean | undefined }[] } {
  const cpu = new OnnxCpuBackend();
  const calls: { weight: RingWeight; resident: boolean | undefined }[] = [];
  return {
    name: 'cpu+ringLinear',
    calls,
    linear: (a, r, w, o, i) => cpu.linear(a, r, w, o, i),
    matmul: (a, m, k, b, n) => cpu.matmul(a, m, k, b, n),
    ringLinear(x: BigUint64Array, rows: number, weight: RingWeight, outDim: number, inDim: number, options?: RingLinearOptions) {
      calls.push({ weight, resident: options?.resident });
      return Promise.resolve(referenceRingProduct(x, rows, deviceWeightForm(weight, outDim, inDim), outDim, inDim));
    },
  };
}

describe('ring products on a backend with a native ring product', () => {
  const cpu = new OnnxCpuBackend();
  const [rows, outDim, inDim] = [2, 33, 520];

  it('the planar, int and ring products go to ringLinear with the stored weight, and agree with the limb path', async () => {
    expect(rows * outDim * inDim).toBeGreaterThan(SMALL_PRODUCT_MACS);
    const native = withRingLinear();
    const x = randomRing(rows * inDim);
    const wi = new Int16Array(randomBytes(2 * outDim * inDim).buffer);
    const wr = randomRing(outDim * inDim);
    const pi = planarInt16(wi, outDim, inDim);
    const pr = planarRing(wr, outDim, inDim);
    const limbs = toLimbPlanes(wr);
    expect(await ringLinearPlanar(native, x, rows, pi, outDim, inDim)).toEqual(await ringLinearPlanar(cpu, x, rows, pi, outDim, inDim));
    expect(await ringLinearPlanar(native, x, rows, pr, outDim, inDim)).toEqual(await ringLinearPlanar(cpu, x, rows, pr, outDim, inDim));
    expect(await ringLinearInt(native, x, rows, wi, outDim, inDim)).toEqual(await ringLinearInt(cpu, x, rows, wi, outDim, inDim));
    expect(await ringLinearRing(native, x, rows, limbs, outDim, inDim)).toEqual(await ringLinearRing(cpu, x, rows, limbs, outDim, inDim));
    expect(await ringLinearRing(native, x, rows, wr, outDim, inDim)).toEqual(await ringLinearRing(cpu, x, rows, wr, outDim, inDim));
    expect(native.calls.map((c) => c.weight)).toEqual([pi, pr, wi, limbs, wr]);
    // Stored weights stay resident; a ring operand given as elements (attention's keys) is transient.
    expect(native.calls.map((c) => c.resident)).toEqual([undefined, undefined, undefined, true, false]);
  });

  it('ringMatmulRing and small products: transient operands, and tiny products stay in JS', async () => {
    const native = withRingLinear();
    const a = randomRing(rows * inDim);
    const b = randomRing(inDim * outDim);
    expect(await ringMatmulRing(native, a, rows, inDim, b, outDim)).toEqual(await ringMatmulRing(cpu, a, rows, inDim, b, outDim));
    expect(native.calls).toHaveLength(1);
    expect(native.calls[0]!.resident).toBe(false);
    const small = planarRing(randomRing(4 * 8), 4, 8);
    const xs = randomRing(8);
    expect(await ringLinearPlanar(native, xs, 1, small, 4, 8)).toEqual(await ringLinearPlanar(cpu, xs, 1, small, 4, 8));
    expect(native.calls).toHaveLength(1);
  });
});
