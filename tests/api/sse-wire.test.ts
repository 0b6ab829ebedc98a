/**
 * The raw SSE wire, byte for byte: framing, golden transcripts (ids, timestamps and timings
 * normalised) and keep-alive comments while the first token is pending.
 * Regenerate the goldens with UPDATE_GOLDEN=1 after an intended change.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatedBackend } from './helpers/gated-backend.js';
import { SseReader, dataObjects } from './helpers/sse.js';
import { MODEL_ID, repoRoot } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  // No keep-alive comment may land in a golden transcript, however slow the machine.
  gw = await startTestGateway({ keepAliveMs: 600_000 });
});
afterAll(() => gw.close());

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/**
 * Replaces what legitimately changes between runs: ids, timestamps, and the protocol's cost
 * (measured times; bytes differ between backends). Its presence and place stay checked.
 */
function normalise(transcript: string): string {
  return transcript
    .replace(/"id":"(chatcmpl|cmpl)-[0-9a-f]{32}"/g, '"id":"$1-ID"')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"permllm":\{"(?:flights_per_token":[^,]+,")?bytes_to_engine":\d+,"bytes_from_engine":\d+,"dealer_bytes":\d+,"prefill_ms":[0-9.e+-]+,"decode_ms":[0-9.e+-]+(?:,"mask_profile":"[a-z0-9-]+")?\}/g, '"permllm":"STATS"');
}

async function matchGolden(name: string, transcript: string): Promise<void> {
  const file = path.join(repoRoot, 'tests/api/golden', name);
  if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(file, transcript);
  expect(transcript).toBe(await readFile(file, 'utf8'));
}

describe('SSE framing', () => {
  it('chat stream: exact frames, golden transcript', async () => {
    const response = await postJson(`${gw.baseURL}/chat/completions`, {
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      temperature: 0,
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const reader = new SseReader(response.body!);
    const frames = await reader.rest();
    // Every frame is a single `data:` line; the stream ends with [DONE] and nothing after it.
    expect(frames.every((f) => /^data: [^\n]+$/.test(f))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(reader.transcript.endsWith('data: [DONE]\n\n')).toBe(true);
    const objects = dataObjects(frames);
    expect(objects.every((o) => o['object'] === 'chat.completion.chunk')).toBe(true);
    // flights_per_token and mask_profile come from the private backend only.
    expect(Object.keys(objects.at(-1)!['permllm'] as object).filter((k) => k !== 'flights_per_token' && k !== 'mask_profile')).toEqual([
      'bytes_to_engine',
      'bytes_from_engine',
      'dealer_bytes',
      'prefill_ms',
      'decode_ms',
    ]);
    await matchGolden('chat-stream.sse', normalise(reader.transcript));
  });

  it('legacy completion stream: golden transcript', async () => {
    const response = await postJson(`${gw.baseURL}/completions`, {
      model: MODEL_ID,
      prompt: 'Once upon a time',
      temperature: 0,
      max_tokens: 5,
      stop: ' a',
      stream: true,
    });
    const reader = new SseReader(response.body!);
    await reader.rest();
    await matchGolden('completion-stream.sse', normalise(reader.transcript));
  });

  it('sends `: keep-alive` comments while the first token is pending, then the stream as usual', async () => {
    const gated = new GatedBackend(gw.backend);
    const slow = await startTestGateway({ backend: gated, keepAliveMs: 10 });
    try {
      const response = await postJson(`${slow.baseURL}/chat/completions`, {
        model: MODEL_ID,
        messages: [{ role: 'user', content: 'Once upon a time' }],
        temperature: 0,
        max_tokens: 3,
        stream: true,
      });
      const reader = new SseReader(response.body!);
      const first = await reader.nextFrame();
      expect(JSON.parse(first!.slice(6))).toMatchObject({ choices: [{ delta: { role: 'assistant' } }] });
      expect(await reader.nextFrame()).toBe(': keep-alive');
      gated.gate.open();
      const rest = await reader.rest();
      expect(rest.at(-1)).toBe('data: [DONE]');
      const text = dataObjects(rest)
        .map((o) => ((o['choices'] as { delta?: { content?: string } }[])[0]?.delta?.content ?? ''))
        .join('');
      expect(text).toBe(', there was');
    } finally {
      await slow.close();
    }
  });
});
