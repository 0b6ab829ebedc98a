/** The gateway's kept conversations: which prompt continues which state, and how far. */
import { describe, expect, it } from 'vitest';
import { RingKvMemory } from '../../protocol/subprotocols/ring/ring-mul-kv.js';
import { ConversationCache, MIN_REUSED_TOKENS } from './conversation-cache.js';

const kept = () => ({ ring: true as const, memories: [new RingKvMemory(4, 8)] });
const entry = (sessionId: string, tokens: number[], pairingId = 'p') => ({ sessionId, pairingId, tokens, kept: kept() });
const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

describe('ConversationCache', () => {
  it('continues the entry the prompt extends furthest, cut where they diverge, leaving a token to feed', () => {
    const cache = new ConversationCache({ maxEntries: 4, maxBytes: 1 << 20, ttlMs: 1000 });
    cache.put(entry('a', range(10)));
    cache.put(entry('b', range(20)));
    expect(cache.take([...range(15), 99], 'p')).toMatchObject({ entry: { sessionId: 'b' }, length: 15 });
    // The prompt equals the kept tokens: the last one is fed again (its logits are needed).
    expect(cache.take(range(10), 'p')).toMatchObject({ entry: { sessionId: 'a' }, length: 9 });
    expect(cache.size).toBe(0);
  });

  it('does not link requests that share less than MIN_REUSED_TOKENS, nor across pairings', () => {
    const cache = new ConversationCache({ maxEntries: 4, maxBytes: 1 << 20, ttlMs: 1000 });
    cache.put(entry('a', range(20)));
    expect(cache.take([...range(MIN_REUSED_TOKENS - 1), 99, 98], 'p')).toBeUndefined();
    expect(cache.take(range(30), 'other-pairing')).toBeUndefined();
    expect(cache.take([...range(MIN_REUSED_TOKENS), 99], 'p')).toMatchObject({ length: MIN_REUSED_TOKENS });
  });

  it('is bounded by entries and expires them', () => {
    let now = 0;
    const cache = new ConversationCache({ maxEntries: 2, maxBytes: 1 << 20, ttlMs: 1000 }, () => now);
    for (const id of ['a', 'b', 'c']) cache.put(entry(id, range(10, id.charCodeAt(0) * 100)));
    expect(cache.size).toBe(2);
    expect(cache.take(range(12, 'a'.charCodeAt(0) * 100), 'p')).toBeUndefined();
    now = 1001;
    expect(cache.size).toBe(0);
  });
});
