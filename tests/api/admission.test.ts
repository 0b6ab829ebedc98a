/**
 * Admission control counts backend sessions, not requests (issue 10, "prompt-list fan-out"):
 * every choice of every prompt is one private session, so a `/v1/completions` request with a
 * prompt list and `n` opens n × prompts of them. Against a real gateway whose backend counts
 * the sessions it has open at once: concurrent multi-prompt, multi-choice requests never open
 * more than the session budget; prompt lists beyond `maxPrompts` and requests needing more
 * sessions than the budget are refused with 400 before any session starts; honest `n` requests
 * still run their choices concurrently and complete; /readyz and Retry-After speak sessions.
 */
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { SessionCountingBackend } from './helpers/session-counting-backend.js';
import { createTestBackend, MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway } from './helpers/test-gateway.js';

const story = (i: number) => `Once upon a time ${i}`;

/**
 * The request's refusal, or 'session opened' if the backend saw a session first (so a
 * regression fails at once instead of holding sessions at the gate until the test times out).
 */
async function refusedBeforeAnySession(backend: SessionCountingBackend, request: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const outcome = await Promise.race([failure(request), backend.nextStart()]);
  if (outcome === 'session opened') throw new Error(`a session opened for a request that must be refused (${backend.started} so far)`);
  return outcome;
}

async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('admission control counts sessions (n × prompts)', () => {
  it('concurrent prompt-list × n requests never open more sessions than the budget, and all complete', async () => {
    const backend = new SessionCountingBackend(await createTestBackend());
    const gw = await startTestGateway({ backend, maxConcurrent: 4, maxQueue: 16, maxPrompts: 4 });
    try {
      // Three requests of 2 prompts × n = 2: 12 sessions wanted; request counting let all
      // three in at once (12 open sessions against a budget of 4).
      const requests = [0, 1, 2].map((r) =>
        gw.openai.completions.create({ model: MODEL_ID, prompt: [story(2 * r), story(2 * r + 1)], n: 2, max_tokens: 2, temperature: 0 }),
      );
      // Every session is either open (held at the gate) or queued in admission control.
      await expect.poll(() => backend.active + gw.server.gateway.admission.queued, { timeout: 10_000 }).toBe(12);
      expect(backend.active).toBe(4);
      expect(gw.server.gateway.admission.inFlight).toBe(4);
      expect(gw.server.gateway.admission.queued).toBe(8);
      backend.gate.open();
      const answers = await Promise.all(requests);
      for (const answer of answers) expect(answer.choices.map((c) => c.index).sort()).toEqual([0, 1, 2, 3]);
      expect(backend.started).toBe(12);
      expect(backend.peak).toBe(4);
      await expect.poll(() => gw.server.gateway.admission.inFlight).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('a prompt list longer than maxPrompts is refused with 400 param prompt, before any session', async () => {
    const backend = new SessionCountingBackend(await createTestBackend());
    const gw = await startTestGateway({ backend, maxConcurrent: 64 });
    try {
      // The attack of issue 10: a 64-prompt list (default maxPrompts is 8).
      const prompts = Array.from({ length: 64 }, (_, i) => story(i));
      const error = await refusedBeforeAnySession(backend, gw.openai.completions.create({ model: MODEL_ID, prompt: prompts, n: 8, max_tokens: 1 }));
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'prompt' });
      expect(error.message).toContain('at most 8 prompts');
      // Token-array lists count per element too.
      const tokenLists = Array.from({ length: 9 }, () => [1, 2, 3]);
      expect(await refusedBeforeAnySession(backend, gw.openai.completions.create({ model: MODEL_ID, prompt: tokenLists, max_tokens: 1 }))).toMatchObject({ status: 400, param: 'prompt' });
      expect(backend.started).toBe(0);
      // At the cap it is served (one token array is one prompt, whatever its length).
      backend.gate.open();
      const ok = await gw.openai.completions.create({ model: MODEL_ID, prompt: prompts.slice(0, 8), max_tokens: 1, temperature: 0 });
      expect(ok.choices).toHaveLength(8);
      expect((await gw.openai.completions.create({ model: MODEL_ID, prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9], max_tokens: 1 })).choices).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('n × prompts beyond the session budget is a clear 400, not a wait in the queue', async () => {
    const backend = new SessionCountingBackend(await createTestBackend());
    const gw = await startTestGateway({ backend, maxConcurrent: 4, maxN: 8, queueTimeoutMs: 60_000 });
    try {
      const listed = await refusedBeforeAnySession(backend, gw.openai.completions.create({ model: MODEL_ID, prompt: [story(0), story(1), story(2)], n: 2, max_tokens: 1 }));
      expect(listed).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'prompt' });
      expect(listed.message).toContain('needs 6 backend sessions (n = 2 × 3 prompts); this gateway runs at most 4 at once');
      const chat = await refusedBeforeAnySession(backend, gw.openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Hi' }], n: 5, max_tokens: 1 }));
      expect(chat).toMatchObject({ status: 400, param: 'n' });
      expect(chat.message).toContain('needs 5 backend sessions');
      expect(backend.started).toBe(0);
      expect(gw.server.gateway.admission.queued).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('an honest n request runs its choices concurrently up to the budget and completes', async () => {
    const backend = new SessionCountingBackend(await createTestBackend());
    const gw = await startTestGateway({ backend, maxConcurrent: 4 });
    try {
      const chat = gw.openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Once upon a time' }], n: 4, max_tokens: 3, seed: 7 });
      // All four choices are open at once (not run one after another).
      await expect.poll(() => backend.active, { timeout: 10_000 }).toBe(4);
      backend.gate.open();
      const answer = await chat;
      expect(answer.choices).toHaveLength(4);
      for (const choice of answer.choices) expect(choice.finish_reason).toMatch(/^(length|stop)$/);
      expect(backend.peak).toBe(4);
    } finally {
      await gw.close();
    }
  });

  it('/readyz and 429 Retry-After count sessions', async () => {
    const backend = new SessionCountingBackend(await createTestBackend());
    const gw = await startTestGateway({ backend, maxConcurrent: 3, maxQueue: 1, retryAfterSeconds: 2 });
    try {
      const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
      // Two sessions of three: not at capacity, a one-session request still gets in.
      const two = gw.openai.chat.completions.create({ model: MODEL_ID, messages, n: 2, max_tokens: 1 });
      await expect.poll(() => backend.active).toBe(2);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      const one = gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 });
      await expect.poll(() => backend.active).toBe(3);
      // A two-session request does not fit the queue (room for one session): 429 at once.
      const refused = await refusedBeforeAnySession(backend, gw.openai.chat.completions.create({ model: MODEL_ID, messages, n: 2, max_tokens: 1 }));
      expect(refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
      expect(refused.headers?.get('retry-after')).toBe('2');
      expect(refused.message).toContain('3 sessions generating and 0 queued; this request needs 2');
      // One session queued: budget spent and queue full, so /readyz says at capacity.
      const queued = gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 });
      await expect.poll(() => gw.server.gateway.admission.queued).toBe(1);
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('2');
      expect(await ready.json()).toMatchObject({ ready: false, reasons: ['at capacity: 3 of 3 backend sessions generating and 1 queued'] });
      backend.gate.open();
      expect((await two).choices).toHaveLength(2);
      expect((await one).choices).toHaveLength(1);
      expect((await queued).choices).toHaveLength(1);
      expect(backend.peak).toBe(3);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
