/**
 * While a large product runs in a compute worker, the event loop keeps answering; the same
 * product on the in-thread backend holds it for the whole product (onnxruntime's run() blocks
 * the JS thread). A 5 ms interval timer measures the longest wait.
 *
 * The bound: the product is grown until in-thread it holds the timer for at least 600 ms (the
 * control: in-thread the timer waits for the whole product); in a worker the timer must never
 * wait a third of the product's own duration, i.e. the loop answers all through it, where
 * in-thread the one wait is the whole product. Relative, because on this shared machine (2 cores,
 * load 10–30) the OS alone leaves a thread unscheduled for over 100 ms at times (measured here: a
 * 114 ms wait of which the main thread ran 24 ms; at a busier moment a 379 ms wait while the
 * product took 2.9 s instead of 0.7), and the busier the machine the longer both take; neither
 * the main thread's CPU time nor its run-queue time separates that from a stall (in-thread, the
 * main thread sleeps inside run() while onnxruntime's own threads compute: 88 ms on a CPU in a
 * 430 ms stall).
 * Where PERMLLM_HEALTHZ_BOUND_MS is set (a dedicated host, as for the load test: 100), the wait in
 * a worker must also stay below it.
 */
import { loadavg } from 'node:os';
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

const input = (rows: number, inDim: number) => Float64Array.from({ length: rows * inDim }, (_, i) => ((i * 7919) % 1000) / 1000);
// Wide outputs: much work per input byte, so the one copy of the input on the main thread is small.
const [IN_DIM, OUT_DIM] = [1024, 4096];
const product = (backend: ComputeBackend, rows: number, w: Float64Array) => {
  const x = input(rows, IN_DIM);
  return () => backend.linear(x, rows, w, OUT_DIM, IN_DIM);
};
const describeWait = (w: Wait) => `${w.durationMs.toFixed(0)} ms, timer waited at most ${w.waitMs.toFixed(1)} ms`;

describe('the event loop while a product runs', () => {
  const pool = new WorkerPoolBackend({ size: 1 });
  afterAll(() => pool.close());

  it('keeps answering while a product that stalls the in-thread backend runs in a worker', async () => {
    const inThread = new OnnxCpuBackend();
    const maxRows = 4096;
    const w = Float64Array.from({ length: OUT_DIM * IN_DIM }, (_, i) => ((i * 104729) % 1000) / 1000);
    await inThread.linear(input(1, IN_DIM), 1, w, OUT_DIM, IN_DIM); // sessions created before anything is timed
    // The worker started and the weight stored in it (on its second use) before anything is timed.
    for (let i = 0; i < 2; i++) await pool.linear(input(16, IN_DIM), 16, w, OUT_DIM, IN_DIM);
    let rows = 32;
    let control = await longestTimerWait(product(inThread, rows, w));
    while (control.waitMs < IN_THREAD_STALL_MS && rows < maxRows) {
      rows *= 2;
      control = await longestTimerWait(product(inThread, rows, w));
    }
    // The control: in-thread, the timer waits for the whole product.
    expect(control.waitMs).toBeGreaterThanOrEqual(IN_THREAD_STALL_MS);
    const offThread = await longestTimerWait(product(pool, rows, w));
    console.log(`${rows}x${IN_DIM}→${OUT_DIM} float64 product in-thread: ${describeWait(control)}; in a worker: ${describeWait(offThread)} (load average ${loadavg()[0]!.toFixed(1)})`);
    expect(offThread.durationMs).toBeGreaterThan(IN_THREAD_STALL_MS / 2); // the product itself still takes long
    expect(offThread.waitMs).toBeLessThan(offThread.durationMs / 3);
    if (WALL_BOUND_MS !== undefined) expect(offThread.waitMs).toBeLessThan(WALL_BOUND_MS);
  });
});
