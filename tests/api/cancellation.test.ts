/**
 * A client that goes away ends the backend session: before the first token, mid-stream, and
 * while a non-streaming response is being computed. The proof is the real backend's own
 * session-end hook (and its active-session count), not the gateway's view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { GenerationBackend, SessionEnd } from '../../gateway/pipeline/generation-backend.js';
import { GatedBackend } from './helpers/gated-backend.js';
import { MODEL_ID, createTestBackend } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let backend: GenerationBackend;
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
const MAX_TOKENS = 200;

beforeAll(async () => {
  backend = await createTestBackend();
  expect(backend.onSessionEnd, 'the backend must expose onSessionEnd for these tests').toBeTypeOf('function');
});

/** Resolves with the next session end the real backend reports. */
function nextSessionEnd(): Promise<SessionEnd> {
  return new Promise((resolve) => {
    const off = backend.onSessionEnd!((end) => {
      off();
      resolve(end);
    });
  });
}

async function withGateway(holdAfter: number, body: (gw: TestGateway, gated: GatedBackend) => Promise<void>) {
  const gated = new GatedBackend(backend, holdAfter);
  const gw = await startTestGateway({ backend: gated });
  try {
    await body(gw, gated);
    // The slot is released too.
    await expect.poll(() => gw.server.gateway.admission.inFlight).toBe(0);
  } finally {
    await gw.close();
  }
}

afterAll(() => {
  expect(backend.activeSessions ?? 0).toBe(0);
});

describe('client disconnect ends the backend session', () => {
  it('streaming, before the first token', async () => {
    await withGateway(0, async (gw, gated) => {
      const ended = nextSessionEnd();
      const abort = new AbortController();
      const stream = await gw.openai.chat.completions.create(
        { model: MODEL_ID, messages, max_tokens: MAX_TOKENS, stream: true },
        { signal: abort.signal },
      );
      await gated.started;
      expect(backend.activeSessions).toBe(1);
      abort.abort();
      const end = await ended;
      expect(end.reason).toBe('aborted');
      expect(end.generatedTokens).toBeLessThanOrEqual(1);
      expect(backend.activeSessions).toBe(0);
      // The official client ends an aborted stream's iteration quietly.
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.length).toBeLessThanOrEqual(1);
    });
  });

  it('streaming, mid-stream after some tokens', async () => {
    await withGateway(3, async (gw) => {
      const ended = nextSessionEnd();
      const abort = new AbortController();
      const stream = await gw.openai.chat.completions.create(
        { model: MODEL_ID, messages, max_tokens: MAX_TOKENS, stream: true, temperature: 0 },
        { signal: abort.signal },
      );
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (text === ', there was') abort.abort();
      }
      expect(text).toBe(', there was');
      const end = await ended;
      expect(end.reason).toBe('aborted');
      expect(end.generatedTokens).toBeGreaterThanOrEqual(3);
      expect(end.generatedTokens).toBeLessThan(MAX_TOKENS);
      expect(backend.activeSessions).toBe(0);
    });
  });

  it('non-streaming, while the answer is being computed', async () => {
    await withGateway(1, async (gw, gated) => {
      const ended = nextSessionEnd();
      const abort = new AbortController();
      const request = gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: MAX_TOKENS }, { signal: abort.signal });
      await gated.started;
      abort.abort();
      await expect(request).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
      const end = await ended;
      expect(end.reason).toBe('aborted');
      expect(end.generatedTokens).toBeLessThan(MAX_TOKENS);
      expect(backend.activeSessions).toBe(0);
      // Counted as "client closed request".
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('permllm_http_requests_total{route="/v1/chat/completions",method="POST",status="499"} 1');
    });
  });

  it('a matched stop string ends the session early too', async () => {
    const gw = await startTestGateway({ backend });
    try {
      const ended = nextSessionEnd();
      const completion = await gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: MAX_TOKENS, temperature: 0, stop: 'little' });
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      const end = await ended;
      expect(end.generatedTokens).toBe(completion.usage?.completion_tokens);
      expect(end.generatedTokens).toBeLessThan(10);
    } finally {
      await gw.close();
    }
  });
});
