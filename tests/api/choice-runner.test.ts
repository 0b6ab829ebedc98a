/**
 * The text side of a choice, unit by unit: stop strings matched across chunk boundaries and
 * held back while they might still match, UTF-8 characters split over byte tokens, and
 * logprobs attributed to the text they produced. Uses the real stories260K tokenizer and a
 * scripted backend (fixed token ids).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../model/tokenizer.js';
import { runChoice, type ChoiceUpdate } from '../../gateway/api/choice-runner.js';
import { StopSequenceMatcher } from '../../gateway/api/stop-sequence-matcher.js';
import type { GenerationBackend, GenerationEvent } from '../../gateway/pipeline/generation-backend.js';
import { createTestBackend } from './helpers/test-backend.js';

describe('StopSequenceMatcher', () => {
  it('emits text that cannot start a stop string and holds back what still can', () => {
    const m = new StopSequenceMatcher(['aab', 'xyz']);
    expect(m.push('hello a')).toEqual({ emit: 'hello ', stopped: false });
    expect(m.push('a')).toEqual({ emit: '', stopped: false });
    expect(m.push('a')).toEqual({ emit: 'a', stopped: false }); // "aaa": only the last "aa" can still match
    expect(m.push('bcd')).toEqual({ emit: '', stopped: true }); // "aab" completes: it and what follows are dropped
  });

  it('picks the earliest stop string and flushes held text when none matched', () => {
    const m = new StopSequenceMatcher(['END', 'D']);
    expect(m.push('the END')).toEqual({ emit: 'the ', stopped: true });
    const n = new StopSequenceMatcher(['stop']);
    expect(n.push('a sto')).toEqual({ emit: 'a ', stopped: false });
    expect(n.flush()).toBe('sto');
  });

  it('passes everything through without stop strings', () => {
    expect(new StopSequenceMatcher([]).push('abc')).toEqual({ emit: 'abc', stopped: false });
  });
});

describe('runChoice', () => {
  let tokenizer: Tokenizer;
  let base: GenerationBackend;
  beforeAll(async () => {
    base = await createTestBackend();
    tokenizer = base.modelInfo.tokenizer;
  });

  /** A backend that yields fixed ids with made-up logprobs, then finishes with `reason`. */
  const scripted = (ids: number[], reason: 'stop' | 'length'): GenerationBackend => ({
    modelInfo: base.modelInfo,
    readiness: () => ({ ready: true }),
    async *generate(): AsyncGenerator<GenerationEvent> {
      for (const [i, id] of ids.entries()) yield { type: 'token', id, logprob: -i, topLogprobs: [{ id, logprob: -i }] };
      yield { type: 'finish', reason };
    },
  });

  async function run(ids: number[], stops: string[], logprobs = true): Promise<ChoiceUpdate[]> {
    const updates: ChoiceUpdate[] = [];
    for await (const u of runChoice({
      backend: scripted(ids, 'length'),
      tokenizer,
      index: 0,
      request: { promptTokens: [1], maxTokens: 99, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, ...(logprobs ? { topLogprobs: 1 } : {}) },
      stops,
      signal: new AbortController().signal,
      firstTokenTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    })) {
      updates.push(u);
    }
    return updates;
  }

  it('never splits a UTF-8 character; its byte tokens are reported with the character', async () => {
    // "日" is not in the 512-token vocabulary: three byte-fallback tokens, the first two of
    // which decode to nothing on their own.
    const bytes = tokenizer.encode('日', { addBos: false }).filter((id) => tokenizer.tokenText(id).startsWith('<0x'));
    expect(bytes).toHaveLength(3);
    const updates = await run(bytes, []);
    const texts = updates.filter((u) => u.type === 'text');
    expect(texts).toEqual([
      {
        type: 'text',
        index: 0,
        text: '日',
        tokens: bytes.map((id, i) => ({ id, logprob: -i, top: [{ id, logprob: -i }], textOffset: 0 })),
      },
    ]);
    expect(updates.at(-1)).toEqual({ type: 'finish', index: 0, reason: 'length', completionTokens: 3 });
  });

  it('a stop string across tokens ends the choice; tokens starting before it are reported', async () => {
    const ids = tokenizer.encode('Tom had a big dog', { addBos: false });
    const updates = await run(ids, ['a big']);
    const text = updates.flatMap((u) => (u.type === 'text' ? [u.text] : [])).join('');
    expect(text).toBe(' Tom had ');
    const finish = updates.at(-1);
    expect(finish).toMatchObject({ type: 'finish', reason: 'stop' });
    // " a" starts (with its space) before the stop string does, so it is reported; " big" is not.
    const reported = updates.flatMap((u) => (u.type === 'text' ? u.tokens.map((t) => tokenizer.tokenText(t.id)) : []));
    expect(reported.join('')).toBe(' Tom had a');
    // The tokens of the stop string were generated, so they count.
    expect((finish as { completionTokens: number }).completionTokens).toBeGreaterThan(reported.length);
  });
});
