/**
 * The first-token timeout counts silence, not work: a backend that reports progress (as the
 * private prefill does at every layer) may take longer than the timeout to its first token;
 * one that goes quiet is cut with 504 after the timeout.
 */
import { describe, expect, it } from 'vitest';
import type { GenerationBackend, GenerationEvent, GenerationRequest } from '../../gateway/pipeline/generation-backend.js';
import { createTestBackend, MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway } from './helpers/test-gateway.js';

/** Delays the first token by `delayMs`, reporting progress every `everyMs` (0: never) meanwhile. */
class SlowPrefill implements GenerationBackend {
  constructor(
    private readonly inner: GenerationBackend,
    private readonly delayMs: number,
    private readonly everyMs: number,
  ) {}
  get modelInfo() {
    return this.inner.modelInfo;
  }
  readiness() {
    return this.inner.readiness();
  }
  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent> {
    const ticker = this.everyMs > 0 ? setInterval(() => request.onProgress?.(), this.everyMs) : undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs);
        request.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(request.signal.reason);
        });
      });
    } finally {
      clearInterval(ticker);
    }
    yield* this.inner.generate(request);
  }
}

const body = JSON.stringify({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 2 });
const post = (url: string) => fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('first-token timeout', () => {
  it('lets a prefill that reports progress run past the timeout', async () => {
    const gw = await startTestGateway({ backend: new SlowPrefill(await createTestBackend(), 3000, 50), firstTokenTimeoutMs: 1000 });
    try {
      expect((await post(gw.url)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('cuts a silent one after the timeout', async () => {
    const gw = await startTestGateway({ backend: new SlowPrefill(await createTestBackend(), 3000, 0), firstTokenTimeoutMs: 1000 });
    try {
      const response = await post(gw.url);
      expect(response.status).toBe(504);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/no progress towards a first token for 1000 ms/);
    } finally {
      await gw.close();
    }
  });
});
