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
 * head, a block). When the current slice has used its budget, this yields one macrotask turn
 * (setImmediate, after the poll phase, so pending I/O is served first) and resumes in a new
 * slice; otherwise it returns at once. Nothing about the computation changes, only when it
 * runs, so results are bit-identical with and without slicing.
 *
 * The budget is per turn of the event loop, not per session: all work that resumes in one turn
 * (one check phase) shares SLICE_BUDGET_MS, each resumed piece getting an equal share (at least
 * MIN_SHARE_MS), in first-come order. With one budget per resumed piece instead, n concurrent
 * sessions held the loop for n × the budget between two polls of its sockets. The longest
 * stall is thus about the budget plus one unit per resumed piece (plus what I/O callbacks run).
 */

/** Work per turn of the event loop, shared by everything that resumes in that turn (ms). */
export const SLICE_BUDGET_MS = 10;
/** The least a resumed piece of work gets before it is due again (ms). */
export const MIN_SHARE_MS = 1;

let sliceStart = performance.now();
let share = SLICE_BUDGET_MS;
let yields = 0;
/** Pieces that will resume in the next check phase, and whether that phase's turn marker is queued. */
let resumingNext = 0;
let markerQueued = false;

/** First immediate of a check phase in which work resumes: divides the turn's budget among it. */
function startTurn(): void {
  markerQueued = false;
  share = Math.max(MIN_SHARE_MS, SLICE_BUDGET_MS / Math.max(1, resumingNext));
  resumingNext = 0;
}

/** Yields one event-loop turn (I/O first) and resumes in a new slice of this turn's budget. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    // Immediates run in the order queued; the marker goes ahead of every piece of its turn.
    if (!markerQueued) {
      markerQueued = true;
      setImmediate(startTurn);
    }
    resumingNext++;
    setImmediate(() => {
      yields++;
      sliceStart = performance.now();
      resolve();
    });
  });
}

/** Whether the current slice has used its share of the turn's budget. */
export function sliceDue(): boolean {
  return performance.now() - sliceStart >= share;
}

/** Yields when the current slice has used its budget; else resolves without leaving the slice. */
export async function yieldIfDue(): Promise<void> {
  if (sliceDue()) await yieldToEventLoop();
}

/** How many times work has yielded in this process (for tests and diagnostics). */
export function sliceYields(): number {
  return yields;
}
