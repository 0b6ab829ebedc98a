import { describe, expect, it } from 'vitest';
import { SLICE_BUDGET_MS, sliceYields } from './event-loop-slices.js';
import { type Steps, runSliced, runStraight } from './sliced-steps.js';

/** Busy steps of about `ms` each; returns the sum of what they computed. */
function* busy(steps: number, ms: number, log: string[]): Steps<number> {
  let sum = 0;
  try {
    for (let s = 0; s < steps; s++) {
      const end = performance.now() + ms;
      while (performance.now() < end) sum += 1;
      sum = s; // the result does not depend on how long a step spun
      yield;
    }
    return sum * 2;
  } finally {
    log.push('closed');
  }
}

describe('sliced steps', () => {
  it('gives the same result sliced and straight, and yields only when the slice is used up', async () => {
    const log: string[] = [];
    const before = sliceYields();
    expect(await runSliced(busy(40, SLICE_BUDGET_MS / 10, log))).toBe(runStraight(busy(40, 0, log)));
    // 40 ms of steps of 1 ms: due about every tenth step (more often on a loaded machine), not after every other one.
    const yields = sliceYields() - before;
    expect(yields).toBeGreaterThanOrEqual(2);
    expect(yields).toBeLessThan(20);
    expect(log).toEqual(['closed', 'closed']);
  });

  it('lets the event loop turn between slices', async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    await runSliced(busy(20, SLICE_BUDGET_MS / 2, []));
    clearInterval(timer);
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('closes the steps (their finally blocks run) when afterYield throws', async () => {
    const log: string[] = [];
    let calls = 0;
    const stop = () => {
      if (++calls === 2) throw new Error('owner disposed');
    };
    await expect(runSliced(busy(100, SLICE_BUDGET_MS, log), stop)).rejects.toThrow('owner disposed');
    expect(log).toEqual(['closed']);
  });
});
