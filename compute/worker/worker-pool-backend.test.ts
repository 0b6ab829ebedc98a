/**
 * The worker pool returns what the in-thread onnxruntime backend returns, bit for bit, for every
 * product of ComputeBackend and every weight form of the ring products (ring results compared
 * as exact residues, float results byte for byte), whether a product runs in a worker or
 * in-thread (small ones); stored weights cross once; errors keep their class.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { OnnxCpuBackend } from '../onnx-backend.js';
import { planarInt16, planarRing, ringLinearInt, ringLinearPlanar, ringLinearRing, ringMatmulRing, SMALL_PRODUCT_MACS, toLimbPlanes } from '../ring-gemm.js';
import { WorkerPoolBackend } from './worker-pool-backend.js';

const M = 1n << 64n;
const randomRing = (n: number) => new BigUint64Array(randomBytes(8 * n).buffer);
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const int16s = (n: number) => Int16Array.from({ length: n }, (_, i) => ((i * 7919) % 65535) - 32767);

describe('WorkerPoolBackend', () => {
  const cpu = new OnnxCpuBackend();
  const pool = new WorkerPoolBackend({ size: 2 });
  afterAll(() => pool.close());

  it('ring products of every weight form equal the in-thread limb paths bit for bit', async () => {
    // Above the in-thread threshold, all-ones limbs (the exactness worst case) in the first row.
    for (const [rows, outDim, inDim] of [[3, 64, 300], [1, 2, 40000]] as const) {
      expect(rows * outDim * inDim).toBeGreaterThan(SMALL_PRODUCT_MACS);
      const x = randomRing(rows * inDim);
      x.fill(M - 1n, 0, Math.min(inDim, 1000));
      const wInt = int16s(outDim * inDim);
      wInt.fill(-32768, 0, Math.min(inDim, 1000));
      const wRing = randomRing(outDim * inDim);
      wRing.fill(M - 1n, 0, Math.min(inDim, 1000));
      const pInt = planarInt16(wInt, outDim, inDim);
      const pRing = planarRing(wRing, outDim, inDim);
      const limbs = toLimbPlanes(wRing);
      const forms = [
        ['int16 planes', (b: typeof cpu | typeof pool) => ringLinearPlanar(b, x, rows, pInt, outDim, inDim)],
        ['ring planes', (b: typeof cpu | typeof pool) => ringLinearPlanar(b, x, rows, pRing, outDim, inDim)],
        ['int16 weight', (b: typeof cpu | typeof pool) => ringLinearInt(b, x, rows, wInt, outDim, inDim)],
        ['ring weight (transient)', (b: typeof cpu | typeof pool) => ringLinearRing(b, x, rows, wRing, outDim, inDim)],
        ['ring limb planes (resident)', (b: typeof cpu | typeof pool) => ringLinearRing(b, x, rows, limbs, outDim, inDim)],
      ] as const;
      for (const [form, product] of forms) {
        const dispatched = pool.stats().dispatched;
        const [inThread, inWorker] = [await product(cpu), await product(pool)];
        expect(pool.stats().dispatched, form).toBe(dispatched + 1);
        expect(bytesOf(inWorker).equals(bytesOf(inThread)), form).toBe(true);
      }
    }
    const [m, k, n] = [40, 33, 70];
    const a = randomRing(m * k);
    const b = randomRing(k * n);
    expect(bytesOf(await ringMatmulRing(pool, a, m, k, b, n)).equals(bytesOf(await ringMatmulRing(cpu, a, m, k, b, n)))).toBe(true);
  });

  it('float, int16 and 8-bit products equal onnxruntime in-thread byte for byte (same intra-op threads)', async () => {
    const [rows, outDim, inDim] = [37, 65, 129];
    const random = (n: number) => Float64Array.from({ length: n }, () => Math.random() * 2 - 1);
    // Float sums depend on onnxruntime's thread count: compared at the default and at one thread.
    const single = new WorkerPoolBackend({ size: 1, intraOpThreads: 1 });
    const cpu1 = new OnnxCpuBackend(1);
    try {
      for (const [inWorkers, inThread] of [[pool, cpu], [single, cpu1]] as const) {
        for (const [x, w, b] of [[random(rows * inDim), random(outDim * inDim), random(inDim * outDim)], [Float32Array.from(random(rows * inDim)), Float32Array.from(random(outDim * inDim)), Float32Array.from(random(inDim * outDim))]] as const) {
          const expected = bytesOf(await inThread.linear(x, rows, w, outDim, inDim));
          // Three times: the weight is stored in its worker on its second use, then named by key.
          for (let i = 0; i < 3; i++) expect(bytesOf(await inWorkers.linear(x, rows, w, outDim, inDim)).equals(expected)).toBe(true);
          expect(bytesOf(await inWorkers.matmul(x, rows, inDim, b, outDim)).equals(bytesOf(await inThread.matmul(x, rows, inDim, b, outDim)))).toBe(true);
        }
      }
    } finally {
      await single.close();
    }
    const x64 = Float64Array.from({ length: rows * inDim }, () => Math.floor(Math.random() * 65536));
    for (const w16 of [int16s(outDim * inDim), Uint16Array.from(int16s(outDim * inDim))]) {
      expect(bytesOf(await pool.linearInt16(x64, rows, w16, outDim, inDim)).equals(bytesOf(await cpu.linearInt16(x64, rows, w16, outDim, inDim)))).toBe(true);
    }
    const a8 = new Uint8Array(randomBytes(rows * inDim));
    for (const b8 of [new Uint8Array(randomBytes(inDim * outDim)), new Int8Array(randomBytes(inDim * outDim).buffer)]) {
      expect(bytesOf(await pool.matmulU8(a8, rows, inDim, b8, outDim)).equals(bytesOf(await cpu.matmulU8(a8, rows, inDim, b8, outDim)))).toBe(true);
    }
  });

  it('sends a stored weight to its worker once, and runs small products in-thread', async () => {
    const [rows, outDim, inDim] = [4, 64, 256];
    const w = planarInt16(int16s(outDim * inDim), outDim, inDim);
    const x = randomRing(rows * inDim);
    const before = pool.stats();
    const first = await ringLinearPlanar(pool, x, rows, w, outDim, inDim);
    const afterFirst = pool.stats();
    expect(afterFirst.storedBytes - before.storedBytes).toBe(2 * outDim * inDim); // lo + hi planes, once
    for (let i = 0; i < 3; i++) expect(bytesOf(await ringLinearPlanar(pool, x, rows, w, outDim, inDim)).equals(bytesOf(first))).toBe(true);
    const after = pool.stats();
    expect(after.storedBytes).toBe(afterFirst.storedBytes);
    expect(after.copiedBytes - afterFirst.copiedBytes).toBe(3 * 8 * rows * inDim); // only the inputs crossed
    // Small: in-thread, same result as the plain backend.
    const [r, o, i] = [2, 8, 64];
    const xs = randomRing(r * i);
    const ws = int16s(o * i);
    const inline = pool.stats().inline;
    expect(bytesOf(await ringLinearInt(pool, xs, r, ws, o, i)).equals(bytesOf(await ringLinearInt(cpu, xs, r, ws, o, i)))).toBe(true);
    expect(pool.stats().inline).toBe(inline + 1);
  });

  it('a product that fails in a worker rejects with the same error class', async () => {
    // Inner dimension beyond the exact limb range: ring-gemm refuses it inside the worker.
    const [rows, outDim, inDim] = [1, 1, 2 ** 19];
    await expect(pool.ringLinear(new BigUint64Array(rows * inDim), rows, new BigUint64Array(outDim * inDim), outDim, inDim, { resident: false })).rejects.toThrow(RangeError);
    await expect(pool.ringLinear(new BigUint64Array(rows * inDim), rows, new BigUint64Array(outDim * inDim), outDim, inDim, { resident: false })).rejects.toThrow(/too large for exact limb products/);
    expect(() => pool.linear(new Float64Array(3), 1, new Float64Array(4), 2, 2)).toThrow(RangeError);
  });

  it('replaces a worker that dies: its in-flight product fails with the reason, the next runs on a new one with the weight sent again', async () => {
    const solo = new WorkerPoolBackend({ size: 1 });
    try {
      const [rows, outDim, inDim] = [64, 256, 512];
      const w = planarRing(randomRing(outDim * inDim), outDim, inDim);
      const x = randomRing(rows * inDim);
      const expected = await ringLinearPlanar(cpu, x, rows, w, outDim, inDim);
      expect(bytesOf(await ringLinearPlanar(solo, x, rows, w, outDim, inDim)).equals(bytesOf(expected))).toBe(true);
      // The worker, reached past the private field: what a crash in native code would look like from here.
      const worker = (solo as unknown as { slots: { worker: import('node:worker_threads').Worker }[] }).slots[0]!.worker;
      const inFlight = ringLinearPlanar(solo, x, rows, w, outDim, inDim);
      await worker.terminate();
      await expect(inFlight).rejects.toThrow(/compute worker 0 exited/);
      const stored = solo.stats().storedBytes;
      expect(bytesOf(await ringLinearPlanar(solo, x, rows, w, outDim, inDim)).equals(bytesOf(expected))).toBe(true);
      expect(solo.stats().workersStarted).toBe(2);
      expect(solo.stats().storedBytes).toBe(stored + 8 * outDim * inDim);
    } finally {
      await solo.close();
    }
  });
});
