/**
 * Work written once as a sequence of steps, run either in bounded slices on the event loop or
 * straight through.
 *
 * A computation that cannot leave the thread (e.g. node-seal's WebAssembly objects, which live
 * in one thread's heap) is written as a generator that `yield`s between units of work (a
 * polynomial, a ciphertext, a block of coefficients). runSliced() drives it on the event loop:
 * after each step it calls yieldIfDue() (compute/event-loop-slices.ts), so the loop turns
 * whenever the slice budget is used up; runStraight() drives the same generator to the end
 * without yielding, for callers that are not on a server's loop (tests, benchmarks). The two
 * run exactly the same steps in the same order, so their results are identical; only when the
 * steps run differs.
 */
import { yieldIfDue } from './event-loop-slices.js';

/** Steps of a computation: each `yield` marks a point where the event loop may turn. */
export type Steps<T> = Generator<void, T, void>;

/**
 * Runs `steps` on the event loop in bounded slices. `afterYield`, if given, runs each time the
 * loop has turned, before the next step (e.g. to throw if the owner was disposed meanwhile).
 * If a step or `afterYield` throws, the generator is closed (its `finally` blocks run) and the
 * error propagates.
 */
export async function runSliced<T>(steps: Steps<T>, afterYield?: () => void): Promise<T> {
  let done = false;
  try {
    for (;;) {
      const next = steps.next();
      if (next.done) {
        done = true;
        return next.value;
      }
      await yieldIfDue();
      afterYield?.();
    }
  } finally {
    // Closing a generator that threw or finished is a no-op; one stopped by afterYield runs its finally blocks.
    if (!done) steps.return(undefined as T);
  }
}

/** Runs `steps` to the end without yielding (same steps, same result as runSliced). */
export function runStraight<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
