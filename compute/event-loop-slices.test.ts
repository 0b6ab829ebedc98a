import { describe, expect, it } from 'vitest';
import { SLICE_BUDGET_MS, sliceYields, yieldIfDue, yieldToEventLoop } from './event-loop-slices.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('bounded slices on the event loop', () => {
  it('stays in the slice while it has budget left', async () => {
    await yieldToEventLoop(); // a fresh slice
    const before = sliceYields();
    await yieldIfDue();
    expect(sliceYields()).toBe(before);
  });

  it('lets timers run once the slice is used up, once per budget of work', async () => {
    await yieldToEventLoop();
    let timerRan = 0;
    const timer = setInterval(() => timerRan++, 1);
    const before = sliceYields();
    for (let i = 0; i < 40; i++) {
      busy(2); // a unit of work well under the budget
      await yieldIfDue();
    }
    clearInterval(timer);
    expect(timerRan).toBeGreaterThan(0);
    expect(sliceYields() - before).toBeGreaterThan(0);
  });

  it('shares one budget per turn among concurrent work, so n sessions do not hold the loop n times as long', async () => {
    await yieldToEventLoop();
    // A timer re-armed at every firing runs once per turn of the loop (timers phase): the units
    // of work done between two firings are what one turn ran without polling.
    const UNIT_MS = 2;
    const SESSIONS = 4;
    let units = 0;
    const perTurn: number[] = [];
    let probing = true;
    const probe = () => {
      perTurn.push(units);
      units = 0;
      if (probing) setTimeout(probe, 0);
    };
    setTimeout(probe, 0);
    await Promise.all(
      Array.from({ length: SESSIONS }, async () => {
        for (let i = 0; i < 30; i++) {
          busy(UNIT_MS);
          units++;
          await yieldIfDue();
        }
      }),
    );
    probing = false;
    // One turn: the budget, plus at most one unit past its share for each session resumed in it.
    // (A slice per session, as before, allowed SESSIONS × (budget / unit + 1) = 24.)
    const bound = Math.ceil(SLICE_BUDGET_MS / UNIT_MS) + SESSIONS;
    expect(perTurn.length).toBeGreaterThan(5);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(bound);
  });
});
