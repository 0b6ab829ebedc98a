/**
 * While a large product runs in a compute worker, the event loop keeps answering; the same
 * product on the in-thread backend holds it for the whole product (onnxruntime's run() blocks
 * the JS thread). A 5 ms interval timer measures the longest wait.
 *
 * The bound: the product is grown until in-thread it holds the timer for at least 600 ms; in a
 * worker the timer must never wait a third of that in-thread stall. Relative, because on this
 * shared machine (2 cores, load 10–20) the OS alone leaves a thread unscheduled for over 100 ms at
 * times (measured here: a 114 ms wait of which the main thread ran 24 ms); neither the main
 * thread's CPU time nor its run-queue time separates that from a stall (in-thread, the main thread
 * sleeps inside run() while onnxruntime's own threads compute: 88 ms on a CPU in a 430 ms stall).
 * Where PERMLLM_HEALTHZ_BOUND_MS is set (a dedicated host, as for the load test: 100), the wait in
 * a worker must also stay below it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../compute-backend.js';
import { OnnxCpuBackend } from '../onnx-backend.js';
import { WorkerPoolBackend } from './worker-pool-backend.js';

const IN_THREAD_STALL_MS = 600;
const WALL_BOUND_MS = process.env['PERMLLM_HEALTHZ_BOUND_MS'] === undefined ? undefined : Number(process.env['PERMLLM_HEALTHZ_BOUND_MS']);

interface Wait {
  /** The longest wait of the timer. */
  waitMs: number;
  /** How long the product took. */
  durationMs: number;
}

/** The longest wait of a 5 ms interval timer while `run` is in progress. */
async function longestTimerWait(run: () => Promise<unknown>): Promise<Wait> {
  let last = performance.now();
  let waitMs = 0;
  const tick = () => {
    const now = performance.now();
    waitMs = Math.max(waitMs, now - last);
    last = now;
  };
  const timer = setInterval(tick, 5);
  const start = performance.now();
  await run();
  const end = performance.now();
  tick();
  clearInterval(timer);
  return { waitMs, durationMs: end - start };
}

const input = (rows: number, dim: number) => Float64Array.from({ length: rows * dim }, (_, i) => ((i * 7919) % 1000) / 1000);
const product = (backend: ComputeBackend, rows: number, dim: number, w: Float64Array) => {
  const x = input(rows, dim);
  return () => backend.linear(x, rows, w, dim, dim);
};
const describeWait = (w: Wait) => `${w.durationMs.toFixed(0)} ms, timer waited at most ${w.waitMs.toFixed(1)} ms`;

describe('the event loop while a product runs', () => {
  const pool = new WorkerPoolBackend({ size: 1 });
  afterAll(() => pool.close());

  it('keeps answering while a product that stalls the in-thread backend runs in a worker', async () => {
    const inThread = new OnnxCpuBackend();
    const dim = 1024;
    const maxRows = 8192;
    const w = Float64Array.from({ length: dim * dim }, (_, i) => ((i * 104729) % 1000) / 1000);
    await inThread.linear(input(1, dim), 1, w, dim, dim); // sessions created before anything is timed
    await pool.linear(input(64, dim), 64, w, dim, dim); // the worker started
    let rows = 128;
    let control = await longestTimerWait(product(inThread, rows, dim, w));
    while (control.waitMs < IN_THREAD_STALL_MS && rows < maxRows) {
      rows *= 2;
      control = await longestTimerWait(product(inThread, rows, dim, w));
    }
    // The control: in-thread, the timer waits for the whole product.
    expect(control.waitMs).toBeGreaterThanOrEqual(IN_THREAD_STALL_MS);
    const offThread = await longestTimerWait(product(pool, rows, dim, w));
    console.log(`${rows}x${dim}x${dim} float64 product in-thread: ${describeWait(control)}; in a worker: ${describeWait(offThread)}`);
    expect(offThread.durationMs).toBeGreaterThan(control.waitMs / 3); // the product itself still takes long
    expect(offThread.waitMs).toBeLessThan(control.waitMs / 3);
    if (WALL_BOUND_MS !== undefined) expect(offThread.waitMs).toBeLessThan(WALL_BOUND_MS);
  });
});
