/**
 * The engine's and the dealer's cache of kept conversation states: only the owner that left a
 * state may continue it, once; entries expire, and the count and byte bounds evict oldest first;
 * a follow-up that arrives before the previous session has wound down waits for its state.
 */
import { describe, expect, it } from 'vitest';
import { SessionStateCache } from './session-state-cache.js';

const limits = { maxEntries: 2, maxBytes: 100, ttlMs: 1000, settleMs: 50 };

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('SessionStateCache', () => {
  it('gives a state only to its owner, and only once', async () => {
    const cache = new SessionStateCache<string>(limits);
    cache.reserve('a', 'alice')!('state-a', 10);
    expect(await cache.take('a', 'mallory')).toBeUndefined();
    expect(await cache.take('a', 'alice')).toBe('state-a');
    expect(await cache.take('a', 'alice')).toBeUndefined();
  });

  it('drops entries older than the time-to-live', async () => {
    const c = clock();
    const cache = new SessionStateCache<string>(limits, c.now);
    cache.reserve('a', 'u')!('state-a', 10);
    c.advance(1001);
    expect(cache.size).toBe(0);
    expect(await cache.take('a', 'u')).toBeUndefined();
  });

  it('evicts the oldest entries beyond the count and the byte bound, and keeps nothing larger than the bound', async () => {
    const c = clock();
    const cache = new SessionStateCache<string>(limits, c.now);
    for (const id of ['a', 'b', 'c']) {
      cache.reserve(id, 'u')!(`state-${id}`, 10);
      c.advance(1);
    }
    expect(cache.size).toBe(2);
    expect(await cache.take('a', 'u')).toBeUndefined();
    cache.reserve('d', 'u')!('state-d', 95);
    expect(cache.bytes).toBeLessThanOrEqual(100);
    expect(await cache.take('c', 'u')).toBeUndefined();
    expect(await cache.take('d', 'u')).toBe('state-d');
    cache.reserve('e', 'u')!('state-e', 101);
    expect(await cache.take('e', 'u')).toBeUndefined();
  });

  it('waits for a reserved entry to be filled, up to settleMs', async () => {
    const cache = new SessionStateCache<string>(limits);
    const fill = cache.reserve('a', 'u')!;
    const taken = cache.take('a', 'u');
    setTimeout(() => fill('late', 1), 10);
    expect(await taken).toBe('late');
    cache.reserve('b', 'u');
    expect(await cache.take('b', 'u')).toBeUndefined(); // never filled: gives up after settleMs
  });

  it('keeps nothing when disabled, and refuses a second reservation of one id', () => {
    expect(new SessionStateCache<string>({ ...limits, maxEntries: 0 }).reserve('a', 'u')).toBeUndefined();
    const cache = new SessionStateCache<string>(limits);
    expect(cache.reserve('a', 'u')).toBeDefined();
    expect(cache.reserve('a', 'v')).toBeUndefined();
  });
});
