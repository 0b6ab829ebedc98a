import { describe, expect, it } from 'vitest';
import { sliceYields, yieldIfDue, yieldToEventLoop } from './event-loop-slices.js';

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
});
