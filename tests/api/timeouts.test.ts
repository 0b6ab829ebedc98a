/**
 * Per-phase timeouts: the idle timeout cuts a stream whose engine stopped producing, and never
 * one that is slow but progressing (total time far beyond the idle limit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationBackend } from '../../gateway/pipeline/generation-backend.js';
import { SlowBackend } from './helpers/faulty-backends.js';
import { GatedBackend } from './helpers/gated-backend.js';
import { SseReader, dataObjects } from './helpers/sse.js';
import { MODEL_ID, createTestBackend } from './helpers/test-backend.js';
import { startTestGateway } from './helpers/test-gateway.js';

let backend: GenerationBackend;
const body = (maxTokens: number) =>
  JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: maxTokens, stream: true });

beforeAll(async () => {
  backend = await createTestBackend();
});
afterAll(() => expect(backend.activeSessions ?? 0).toBe(0));

describe('timeouts', () => {
  it('a stream that stalls after two tokens ends with one timeout error frame', async () => {
    // 1 s, not less: on a loaded 2-core machine two honest tokens can be 100 ms apart.
    const gw = await startTestGateway({ backend: new GatedBackend(backend, 2, true), idleTimeoutMs: 1000 });
    try {
      const response = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(50) });
      const frames = await new SseReader(response.body!).rest();
      const objects = dataObjects(frames);
      expect(objects.at(-1)).toEqual({
        error: { message: 'The engine produced no token for 1000 ms.', type: 'server_error', param: null, code: 'timeout' },
      });
      const text = objects.map((o) => ((o['choices'] as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? '')).join('');
      expect(text).toBe(', there');
    } finally {
      await gw.close();
    }
  });

  it('a slow but progressing stream runs far past the idle limit and completes', async () => {
    // 30 tokens, each at least 25 ms late: 0.75 s or more in all, against a 400 ms idle limit.
    const gw = await startTestGateway({ backend: new SlowBackend(backend, 25), idleTimeoutMs: 400, firstTokenTimeoutMs: 400 });
    try {
      const response = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(30) });
      const frames = await new SseReader(response.body!).rest();
      expect(frames.at(-1)).toBe('data: [DONE]');
      const finish = dataObjects(frames).flatMap((o) => (o['choices'] as { finish_reason: string | null }[]).map((c) => c.finish_reason));
      expect(finish.filter(Boolean)).toEqual(['length']);
    } finally {
      await gw.close();
    }
  });
});
