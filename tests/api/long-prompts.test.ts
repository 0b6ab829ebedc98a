/**
 * A prompt that cannot fit the context window is refused from its byte length before it is
 * tokenized, so a 1 MiB prompt costs the gateway milliseconds and /healthz keeps answering;
 * prompts below that bound are still counted exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const post = (path: string, body: unknown) =>
  fetch(`${gw.baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Text just under the 1 MiB body limit once wrapped in JSON. */
const MEBIBYTE_PROMPT = 'Once upon a time, there was a little girl named Lily. '.repeat(19_300);

/** Pings /healthz back to back until stopped; returns the slowest answer in ms. */
function pingHealth(): { stop: () => Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${gw.url}/healthz`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

describe('prompts longer than the context window', () => {
  it.each([
    ['/completions', { model: MODEL_ID, prompt: MEBIBYTE_PROMPT, max_tokens: 1 }, 'prompt'],
    ['/chat/completions', { model: MODEL_ID, messages: [{ role: 'user', content: MEBIBYTE_PROMPT }], max_tokens: 1 }, 'messages'],
  ])('POST %s with a 1 MiB prompt is refused at once while /healthz answers', async (path, body, param) => {
    expect(JSON.stringify(body).length).toBeGreaterThan(1_040_000);
    expect(JSON.stringify(body).length).toBeLessThan(1024 * 1024);
    const health = pingHealth();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    const response = await post(path, body);
    const elapsed = performance.now() - started;
    const slowestHealth = await health.stop();
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { code: string; param: string; message: string } }).error;
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe(param);
    expect(error.message).toMatch(/needs at least \d+ tokens/);
    // Tokenizing this text alone takes over a second (linear, but a megabyte of it).
    expect(elapsed).toBeLessThan(500);
    expect(slowestHealth).toBeLessThan(250);
  });

  it('a list of prompts names the one that cannot fit', async () => {
    const response = await post('/completions', { model: MODEL_ID, prompt: ['Once', MEBIBYTE_PROMPT.slice(0, 200_000)], max_tokens: 1 });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('prompt[1]');
  });

  it('below the byte bound the exact token count still decides', async () => {
    const tokenizer = gw.backend.modelInfo.tokenizer;
    const perToken = tokenizer.maxBytesPerToken!;
    // More than 512 tokens, but fewer bytes than 512 pieces of the longest kind could cover.
    const text = 'a b c d e f g h '.repeat(80);
    expect(Buffer.byteLength(text)).toBeLessThan(512 * perToken);
    expect(tokenizer.encode(text, { addBos: true }).length).toBeGreaterThan(512);
    const response = await post('/completions', { model: MODEL_ID, prompt: text, max_tokens: 1 });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('context_length_exceeded');
    expect(error.message).toMatch(/the prompt has \d+ tokens/);
  });

  it('a prompt that fits is served', async () => {
    const response = await post('/completions', { model: MODEL_ID, prompt: 'Once upon a time '.repeat(20), max_tokens: 2, temperature: 0 });
    expect(response.status).toBe(200);
  });
});
