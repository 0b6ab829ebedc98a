/**
 * Cooperative time slicing for a party's protocol loop.
 *
 * A party whose sends fit in its peers' receive windows never waits for real I/O: every
 * `await` in its schedule resolves as a microtask, so the event loop gets no turn until the
 * window fills. The dealer, which only produces material, could run 8 MiB per link ahead that
 * way and starve its own heartbeats and `/healthz` for seconds (measured: 5.1 s on stories260K
 * with four concurrent sessions). `yieldIfDue` gives the event loop a macrotask turn once the
 * current synchronous stretch, shared by every session in the process, has lasted `SLICE_MS`.
 */
import { setImmediate as immediate } from 'node:timers/promises';

/** The longest stretch of protocol work between two event-loop turns (ms). */
export const SLICE_MS = 20;

let sliceStart = performance.now();
let turnScheduled = false;

/** Resolves at once inside the current slice; after `SLICE_MS` it waits for one event-loop turn. */
export async function yieldIfDue(): Promise<void> {
  if (!turnScheduled) {
    // The first call after a turn opens the slice.
    turnScheduled = true;
    sliceStart = performance.now();
    setImmediate(() => {
      turnScheduled = false;
    });
    return;
  }
  if (performance.now() - sliceStart < SLICE_MS) return;
  await immediate();
}
