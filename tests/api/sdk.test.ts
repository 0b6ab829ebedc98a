/**
 * The typed SDK against a real gateway on the real model, imported the way another project
 * would: through the package's "exports" ("permllm/sdk").
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermllmClient,
  RateLimitError,
  StreamError,
  type ChatCompletionChunk,
} from 'permllm/sdk';
import type { SessionEnd } from '../../gateway/pipeline/generation-backend.js';
import { FailingBackend } from './helpers/faulty-backends.js';
import { GatedBackend } from './helpers/gated-backend.js';
import { GREEDY_STORY, MODEL_ID, repoRoot } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
let client: PermllmClient;
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];

beforeAll(async () => {
  gw = await startTestGateway();
  client = new PermllmClient({ baseURL: gw.baseURL });
});
afterAll(() => gw.close());

describe('PermllmClient', () => {
  it('chat completions: non-streaming with protocol stats, streaming with the same text', async () => {
    const whole = await client.chat.completions.create({ model: MODEL_ID, messages, temperature: 0, max_tokens: 10 });
    expect(GREEDY_STORY.startsWith(whole.choices[0]?.message.content ?? '-')).toBe(true);
    expect(whole.permllm).toMatchObject({ bytes_to_engine: expect.any(Number), bytes_from_engine: expect.any(Number), dealer_bytes: expect.any(Number) });

    const stream = await client.chat.completions.create({ model: MODEL_ID, messages, temperature: 0, max_tokens: 10, stream: true });
    expect(stream.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0]?.message.content);
    expect(stream.stats).toMatchObject({ dealer_bytes: expect.any(Number), decode_ms: expect.any(Number) });
  });

  it('responses (whole and streamed), tokenize and detokenize', async () => {
    const response = await client.responses.create({ model: MODEL_ID, input: 'Once upon a time', temperature: 0, max_output_tokens: 4 });
    expect(response.status).toBe('incomplete');
    const item = response.output[0] as unknown as { content: { text: string }[] };
    expect(item.content[0]?.text).toBe(', there was a');
    let streamed = '';
    for await (const event of await client.responses.create({ model: MODEL_ID, input: 'Once upon a time', temperature: 0, max_output_tokens: 4, stream: true })) {
      if (event.type === 'response.output_text.delta') streamed += String(event['delta']);
    }
    expect(streamed).toBe(', there was a');
    const tokenized = await client.tokenize({ model: MODEL_ID, prompt: 'Once upon a time' });
    expect(tokenized.tokens).toEqual(gw.backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }));
    expect(tokenized.count).toBe(tokenized.tokens.length);
    expect(tokenized.max_model_len).toBe(gw.backend.modelInfo.maxContext);
    const fromChat = await client.tokenize({ model: MODEL_ID, messages: [{ role: 'user', content: 'Once upon a time' }] });
    expect(fromChat.tokens).toEqual(tokenized.tokens);
    expect((await client.detokenize({ model: MODEL_ID, tokens: tokenized.tokens })).prompt).toBe('Once upon a time');
  });

  it('embeddings: float and base64 carry the same unit vector, with usage and protocol stats', async () => {
    const floats = await client.embeddings.create({ model: MODEL_ID, input: ['Once upon a time', 'The end'] });
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    const vector = floats.data[0]!.embedding as number[];
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    expect(floats.usage.prompt_tokens).toBe(gw.backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }).length + gw.backend.modelInfo.tokenizer.encode('The end', { addBos: true }).length);
    expect(floats.permllm).toMatchObject({ bytes_to_engine: expect.any(Number), dealer_bytes: expect.any(Number) });
    const packed = await client.embeddings.create({ model: MODEL_ID, input: 'Once upon a time', encoding_format: 'base64', dimensions: 8 });
    const bytes = Buffer.from(packed.data[0]!.embedding as string, 'base64');
    const truncated = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(truncated).toHaveLength(8);
    const scale = Math.hypot(...vector.slice(0, 8));
    truncated.forEach((v, i) => expect(v).toBeCloseTo(vector[i]! / scale, 6));
  });

  it('legacy completions and models', async () => {
    const completion = await client.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', temperature: 0, max_tokens: 4 });
    expect(completion.choices[0]?.text).toBe(', there was a');
    let streamed = '';
    for await (const chunk of await client.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', temperature: 0, max_tokens: 4, stream: true })) {
      streamed += chunk.choices[0]?.text ?? '';
    }
    expect(streamed).toBe(', there was a');
    expect((await client.models.list()).data.map((m) => m.id)).toEqual([MODEL_ID]);
    expect((await client.models.retrieve(MODEL_ID)).context_length).toBe(512);
  });

  it('typed errors carry status, type, param and code', async () => {
    const bad = await client.chat.completions.create({ model: MODEL_ID, messages, temperature: 9 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' });
    expect((bad as BadRequestError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await client.models.retrieve('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    const offline = await new PermllmClient({ baseURL: 'http://127.0.0.1:9/v1' }).models.list().catch((e: unknown) => e);
    expect(offline).toBeInstanceOf(APIConnectionError);
  });

  it('401 and 429 map to AuthenticationError and RateLimitError (with retryAfterSeconds)', async () => {
    const gated = new GatedBackend(gw.backend);
    const busy = await startTestGateway({ backend: gated, apiKey: 'sk-sdk', maxConcurrent: 1, maxQueue: 0, retryAfterSeconds: 2 });
    try {
      const anonymous = await new PermllmClient({ baseURL: busy.baseURL }).models.list().catch((e: unknown) => e);
      expect(anonymous).toBeInstanceOf(AuthenticationError);
      expect(anonymous).toMatchObject({ status: 401, code: 'invalid_api_key' });
      const authed = new PermllmClient({ baseURL: busy.baseURL, apiKey: 'sk-sdk' });
      const first = authed.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 });
      await gated.started;
      const limited = await authed.chat.completions.create({ model: MODEL_ID, messages, max_tokens: 1 }).catch((e: unknown) => e);
      expect(limited).toBeInstanceOf(RateLimitError);
      expect((limited as RateLimitError).retryAfterSeconds).toBe(2);
      gated.gate.open();
      await first;
    } finally {
      await busy.close();
    }
  });

  it('an error frame inside a stream is thrown as StreamError', async () => {
    const broken = await startTestGateway({ backend: new FailingBackend(gw.backend, 1) });
    try {
      const stream = await new PermllmClient({ baseURL: broken.baseURL }).chat.completions.create({ model: MODEL_ID, messages, max_tokens: 5, stream: true });
      const error = await (async () => {
        for await (const chunk of stream) void chunk;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamError);
      expect(error).toMatchObject({ status: undefined, type: 'server_error', code: 'engine_error' });
    } finally {
      await broken.close();
    }
  });

  it('AbortSignal cancels the request and the generation behind it', async () => {
    const backend = gw.backend;
    const ended = new Promise<SessionEnd>((resolve) => {
      const off = backend.onSessionEnd!((end) => {
        off();
        resolve(end);
      });
    });
    const abort = new AbortController();
    const stream = await client.chat.completions.create({ model: MODEL_ID, messages, temperature: 0, max_tokens: 300, stream: true }, { signal: abort.signal });
    let seen = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++seen === 2) abort.abort();
    }
    const end = await ended;
    expect(end.reason).toBe('aborted');
    expect(end.generatedTokens).toBeLessThan(300);
    const early = new AbortController();
    early.abort();
    await expect(client.models.list({ signal: early.signal })).rejects.toBeInstanceOf(APIUserAbortError);
  });

  it('is importable from another project through the package exports', async () => {
    const project = await mkdtemp(path.join(tmpdir(), 'permllm-consumer-'));
    try {
      await mkdir(path.join(project, 'node_modules'));
      await symlink(repoRoot, path.join(project, 'node_modules', 'permllm'), 'dir');
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ type: 'module' }));
      await writeFile(
        path.join(project, 'main.ts'),
        [
          "import { PermllmClient } from 'permllm/sdk';",
          'const client = new PermllmClient({ baseURL: process.argv[2]! });',
          `const reply = await client.chat.completions.create({ model: '${MODEL_ID}', messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: 3 });`,
          'console.log(reply.choices[0]?.message.content);',
        ].join('\n'),
      );
      const tsx = path.join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs');
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', tsx, 'main.ts', gw.baseURL], { cwd: project });
      expect(stdout.trim()).toBe(', there was');
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
