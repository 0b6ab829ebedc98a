/**
 * Every documented error comes back in OpenAI's envelope and, through the official client, as
 * its typed error with status, type, param and code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { FailingBackend, NotReadyBackend } from './helpers/faulty-backends.js';
import { GatedBackend } from './helpers/gated-backend.js';
import { SseReader } from './helpers/sse.js';
import { MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];

beforeAll(async () => {
  gw = await startTestGateway({ maxN: 4 });
});
afterAll(() => gw.close());

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

const post = (url: string, body: string, contentType = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('400 invalid_request_error', () => {
  it.each([
    ['temperature', { temperature: 3 }, 'invalid_value'],
    ['top_p', { top_p: -0.1 }, 'invalid_value'],
    ['n', { n: 0 }, 'invalid_value'],
    ['n', { n: 5 }, 'invalid_value'],
    ['max_tokens', { max_tokens: 1.5 }, 'invalid_type'],
    ['max_tokens', { max_tokens: 100_000 }, 'context_length_exceeded'],
    ['max_completion_tokens', { max_completion_tokens: 100_000 }, 'context_length_exceeded'],
    ['top_logprobs', { top_logprobs: 2 }, 'invalid_value'],
    ['top_logprobs', { logprobs: true, top_logprobs: 21 }, 'invalid_value'],
    ['logit_bias', { logit_bias: { '99999': 1 } }, 'invalid_value'],
    ['logit_bias.5', { logit_bias: { '5': 101 } }, 'invalid_value'],
    ['stop', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'invalid_value'],
    ['stream_options', { stream_options: { include_usage: true } }, 'invalid_value'],
    ['presence_penalty', { presence_penalty: 2.5 }, 'invalid_value'],
    ['seed', { seed: 0.5 }, 'invalid_type'],
    ['messages[0].role', { messages: [{ role: 'function', content: 'x', name: 'f' }] }, 'invalid_value'],
    ['messages', { messages: [] }, 'invalid_value'],
    ['model', { model: 42 }, 'invalid_type'],
  ])('%s (%j) -> BadRequestError with param', async (param, extra, code) => {
    const error = await failure(
      gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1, ...extra } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param, code });
  });

  it.each([
    ['audio', { audio: { voice: 'alloy', format: 'mp3' } }],
    ['functions', { functions: [{ name: 'f' }] }],
    ['function_call', { function_call: 'none' }],
    ['prediction', { prediction: { type: 'content', content: 'x' } }],
    ['web_search_options', { web_search_options: {} }],
    ['reasoning_effort', { reasoning_effort: 'low' }],
    ['verbosity', { verbosity: 'low' }],
    ['prompt_cache_retention', { prompt_cache_retention: '24h' }],
    ['not_a_real_field', { not_a_real_field: 1 }],
    ['messages[0].content[1]', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }],
    ['messages[1].content[0]', { messages: [{ role: 'system', content: 's' }, { role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }] }],
  ])('%s -> 400 unsupported_parameter naming it', async (param, extra) => {
    const error = await failure(
      gw.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1, ...extra } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param, code: 'unsupported_parameter' });
  });

  it('missing required parameters are named', async () => {
    const error = await failure(gw.openai.chat.completions.create({ model: MODEL_ID } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(error).toMatchObject({ status: 400, param: 'messages', code: 'missing_required_parameter' });
  });

  it('malformed JSON and non-object bodies are 400 with x-should-retry: false', async () => {
    for (const body of ['{"model": ', '[1,2]', '']) {
      const response = await post(`${gw.baseURL}/chat/completions`, body);
      expect(response.status).toBe(400);
      expect(response.headers.get('x-should-retry')).toBe('false');
      const json = (await response.json()) as { error: Record<string, unknown> };
      expect(json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_json' } });
    }
  });
});

describe('4xx outside validation', () => {
  it('404 model_not_found for an unknown model, on both generation routes and models.retrieve', async () => {
    for (const call of [
      () => gw.openai.chat.completions.create({ model: 'gpt-4o', messages }),
      () => gw.openai.completions.create({ model: 'gpt-4o', prompt: 'x' }),
      () => gw.openai.models.retrieve('gpt-4o'),
    ]) {
      const error = await failure(call());
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
    }
  });

  it('404 unknown_url for unknown routes', async () => {
    const error = await failure(gw.openai.get('/audio/voices'));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'unknown_url' });
  });

  it('405 with Allow for a known route and the wrong method', async () => {
    const error = await failure(gw.openai.post('/models'));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 405, type: 'invalid_request_error', code: 'method_not_allowed' });
    const response = await fetch(`${gw.baseURL}/chat/completions`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('415 unless the body is application/json', async () => {
    const response = await post(`${gw.baseURL}/chat/completions`, JSON.stringify({ model: MODEL_ID, messages }), 'text/plain');
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });
});

describe('gateways configured for one failure each', () => {
  it('401 without or with a wrong API key; the right key works; health stays open', async () => {
    const secured = await startTestGateway({ apiKey: 'sk-right' });
    try {
      const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: secured.baseURL, maxRetries: 0 });
      const error = await failure(wrong.models.list());
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error).toMatchObject({ status: 401, type: 'invalid_request_error', code: 'invalid_api_key' });
      const anonymous = await fetch(`${secured.baseURL}/models`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expect((await fetch(`${secured.url}/metrics`)).status).toBe(401);
      // vLLM's /tokenize and /detokenize sit outside /v1 and need the key too, as /v1/embeddings does.
      for (const [route, body] of [['/tokenize', { model: MODEL_ID, prompt: 'Once upon a time' }], ['/detokenize', { model: MODEL_ID, tokens: [1, 2] }], ['/v1/embeddings', { model: MODEL_ID, input: 'Once upon a time' }]] as const) {
        const request = (key?: string) =>
          fetch(`${secured.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
        expect((await request()).status).toBe(401);
        expect((await request('sk-wrong')).status).toBe(401);
        expect((await request('sk-right')).status).toBe(200);
      }
      expect((await secured.openai.models.list()).data[0]?.id).toBe(MODEL_ID);
      expect((await fetch(`${secured.url}/healthz`)).status).toBe(200);
    } finally {
      await secured.close();
    }
  });

  it('413 when the body is over the limit (declared length or chunked)', async () => {
    const small = await startTestGateway({ maxBodyBytes: 2048 });
    try {
      const error = await failure(small.openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'x'.repeat(5000) }] }));
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ status: 413, type: 'invalid_request_error', code: 'request_too_large' });
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"model":"${MODEL_ID}","messages":[{"role":"user","content":"`));
          controller.enqueue(new TextEncoder().encode('y'.repeat(4000)));
          controller.enqueue(new TextEncoder().encode('"}]}'));
          controller.close();
        },
      });
      const response = await fetch(`${small.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunked,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('429 with Retry-After when every slot is busy and the queue is full', async () => {
    const gated = new GatedBackend(gw.backend);
    const busy = await startTestGateway({ backend: gated, maxConcurrent: 1, maxQueue: 0, retryAfterSeconds: 3 });
    try {
      const first = busy.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 });
      await gated.started;
      const error = await failure(busy.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 }));
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' });
      expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('3');
      gated.gate.open();
      expect((await first).choices[0]?.finish_reason).toBe('length');
      // The slot is free again.
      expect((await busy.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 })).choices).toHaveLength(1);
    } finally {
      await busy.close();
    }
  });

  it('a queued request waits for the slot instead of failing', async () => {
    const gated = new GatedBackend(gw.backend);
    const queued = await startTestGateway({ backend: gated, maxConcurrent: 1, maxQueue: 1 });
    try {
      const first = queued.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 });
      await gated.started;
      const second = queued.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 });
      await expect.poll(() => queued.server.gateway.admission.queued).toBe(1);
      const third = await failure(queued.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 }));
      expect(third).toBeInstanceOf(OpenAI.RateLimitError);
      gated.gate.open();
      expect((await first).choices).toHaveLength(1);
      expect((await second).choices).toHaveLength(1);
    } finally {
      await queued.close();
    }
  });

  it('503 with Retry-After when the backend is not ready (and /readyz says why)', async () => {
    const down = await startTestGateway({ backend: new NotReadyBackend(gw.backend) });
    try {
      const error = await failure(down.openai.chat.completions.create({ model: MODEL_ID, messages }));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'engine_unavailable' });
      expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('5');
      const ready = await fetch(`${down.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, reasons: ['engine at http://127.0.0.1:9 is unreachable'] });
    } finally {
      await down.close();
    }
  });

  it('502 engine_error when the backend fails before the answer', async () => {
    const broken = await startTestGateway({ backend: new FailingBackend(gw.backend, 1) });
    try {
      const error = await failure(broken.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 4 }));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 502, type: 'server_error', code: 'engine_error' });
      expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain('engine connection reset');
    } finally {
      await broken.close();
    }
  });

  it('502 also when the backend throws on the generate call itself', async () => {
    const inner = gw.backend;
    const throwing = await startTestGateway({
      backend: {
        modelInfo: inner.modelInfo,
        readiness: () => ({ ready: true }),
        generate: () => {
          throw new Error('no session: dealer refused');
        },
      },
    });
    try {
      const error = await failure(throwing.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 }));
      expect(error).toMatchObject({ status: 502, code: 'engine_error', message: expect.stringContaining('dealer refused') });
    } finally {
      await throwing.close();
    }
  });

  it('a failure after the stream started is one error frame, then the end (no [DONE])', async () => {
    const broken = await startTestGateway({ backend: new FailingBackend(gw.backend, 2) });
    try {
      // The official client surfaces the frame as an APIError while iterating.
      const stream = await broken.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 6, stream: true });
      const seen: string[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
        })(),
      );
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ type: 'server_error', code: 'engine_error' });
      expect(seen.join('').length).toBeGreaterThan(0);
      // On the wire: data frames, then exactly one error frame, then nothing.
      const response = await post(`${broken.baseURL}/chat/completions`, JSON.stringify({ model: MODEL_ID, messages, max_tokens: 6, stream: true }));
      const frames = await new SseReader(response.body!).rest();
      const last = frames.at(-1)!;
      expect(JSON.parse(last.slice('data: '.length))).toEqual({
        error: { message: expect.stringContaining('engine connection reset'), type: 'server_error', param: null, code: 'engine_error' },
      });
      expect(frames.filter((f) => f.includes('"error"'))).toHaveLength(1);
      expect(frames).not.toContain('data: [DONE]');
    } finally {
      await broken.close();
    }
  });

  it('504 when no first token arrives in time; streaming gets the same error as a frame', async () => {
    const stuck = new GatedBackend(gw.backend, 0, true);
    const slow = await startTestGateway({ backend: stuck, firstTokenTimeoutMs: 100 });
    try {
      const error = await failure(slow.openai.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 2 }));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 504, type: 'server_error', code: 'timeout' });
      const response = await post(`${slow.baseURL}/chat/completions`, JSON.stringify({ model: MODEL_ID, messages, max_tokens: 2, stream: true }));
      const frames = await new SseReader(response.body!).rest();
      expect(JSON.parse(frames.at(-1)!.slice('data: '.length))).toMatchObject({ error: { code: 'timeout', type: 'server_error' } });
    } finally {
      await slow.close();
    }
  });
});
