/**
 * The compute workers run below the event loops' priority (./thread-priority.ts): after a product
 * has run in a worker, this process has threads at COMPUTE_THREAD_NICE (the worker and the
 * onnxruntime threads it started) and the calling thread is still at its own nice value. Fails
 * when the worker does not lower its priority (checked: with the call removed, no thread of the
 * process is at 19). Linux only (per-thread nice values under /proc).
 *
 * And the thread that posts the replies to the caller (the worker's relay,
 * ./compute-relay-entry.mjs) runs at the caller's nice value, so the mutex of the caller's message
 * port is never held by a nice-19 thread. Fails with the compute worker started directly (no
 * relay thread reported) or with the relay lowering its own priority.
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

  it('posts replies to the caller from a relay thread at the caller\'s nice value, not from the nice-19 worker', async () => {
    const self = currentThreadId()!;
    const nice = threadNiceValues();
    const relays = pool.relayThreads();
    expect(relays).toHaveLength(1);
    const [relay] = relays;
    expect(relay).not.toBe(self);
    expect(nice.get(relay!)).toBe(nice.get(self));
    expect(nice.get(relay!)).not.toBe(COMPUTE_THREAD_NICE);
    // Products still come back through it, bit for bit.
    const n = 192;
    const a = Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3);
    const y = await pool.matmul(a, n, n, a, n);
    let expected = 0;
    for (let k = 0; k < n; k++) expected += a[k]! * a[k * n]!;
    expect(y[0]).toBe(expected);
  });
});
