/**
 * The compute workers run below the event loops' priority (./thread-priority.ts): after a product
 * has run in a worker, this process has threads at COMPUTE_THREAD_NICE (the worker and the
 * onnxruntime threads it started) and the calling thread is still at its own nice value. Fails
 * when the worker does not lower its priority (checked: with the call removed, no thread of the
 * process is at 19). Linux only (per-thread nice values under /proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPUTE_THREAD_NICE, currentThreadId } from './thread-priority.js';
import { WorkerPoolBackend } from './worker-pool-backend.js';

/** Nice value of every thread of this process, by thread id. */
function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      // Fields after "(comm) ": state is field 3, nice is field 19.
      values.set(Number(task), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // a thread that ended while listing
    }
  }
  return values;
}

describe.runIf(process.platform === 'linux')('compute worker thread priority', () => {
  const pool = new WorkerPoolBackend({ size: 1 });
  afterAll(() => pool.close());

  it('runs the worker and its onnxruntime threads at COMPUTE_THREAD_NICE, the caller unchanged', async () => {
    const self = currentThreadId();
    expect(self).toBeDefined();
    const callerNice = threadNiceValues().get(self!);
    const before = [...threadNiceValues().values()].filter((n) => n === COMPUTE_THREAD_NICE).length;
    // Above the in-thread threshold (SMALL_PRODUCT_MACS), so it runs in the worker.
    const n = 256;
    const a = new Float32Array(n * n).fill(1);
    const y = await pool.matmul(a, n, n, a, n);
    expect(y[0]).toBe(n);
    expect(pool.stats().dispatched).toBeGreaterThan(0);
    const after = threadNiceValues();
    expect([...after.values()].filter((v) => v === COMPUTE_THREAD_NICE).length).toBeGreaterThan(before);
    expect(after.get(self!)).toBe(callerNice);
    expect(COMPUTE_THREAD_NICE).toBe(19);
  });
});
