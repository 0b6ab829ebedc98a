/**
 * Bounded slices for long synchronous work on the event loop.
 *
 * A party's per-step arithmetic (attention products and RoPE rotations over the whole K/V
 * memory, limb splits and carries, permutations, nonlinear steps on P1's view) is plain
 * JavaScript. `await` on work that never leaves the thread only queues a microtask, so a
 * prefill chunk would otherwise run start to finish without letting the event loop poll its
 * sockets: heartbeats, `/healthz` and every other session at that party wait meanwhile.
 *
 * Contract: code with a long loop calls `await yieldIfDue()` between units of work (a row, a
 * head, a block). When the current slice has run for at least `SLICE_BUDGET_MS`, this yields
 * one macrotask turn (setImmediate, after the poll phase, so pending I/O is served first) and
 * starts a new slice; otherwise it returns at once. The slice clock is process-wide: any yield,
 * by any session, starts a new slice. Nothing about the computation changes, only when it runs,
 * so results are bit-identical with and without slicing.
 */

/** Longest a slice runs before it yields (ms). The worst stall is this plus the largest unit between two checks. */
export const SLICE_BUDGET_MS = 10;

let sliceStart = performance.now();
let yields = 0;

/** Yields one event-loop turn (I/O first) and starts a new slice. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      yields++;
      sliceStart = performance.now();
      resolve();
    }),
  );
}

/** Whether the current slice has used its budget. */
export function sliceDue(): boolean {
  return performance.now() - sliceStart >= SLICE_BUDGET_MS;
}

/** Yields when the current slice has used its budget; else resolves without leaving the slice. */
export async function yieldIfDue(): Promise<void> {
  if (sliceDue()) await yieldToEventLoop();
}

/** How many times work has yielded in this process (for tests and diagnostics). */
export function sliceYields(): number {
  return yields;
}
