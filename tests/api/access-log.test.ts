/**
 * One access-log line per request, written when the response is over (a stream's line comes
 * when the stream ends and carries its counts), with the request id, and never the prompt or
 * the output text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLog, type MemoryLog } from '../observability/memory-log.js';
import { MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
let log: MemoryLog;
beforeAll(async () => {
  log = memoryLog('gateway');
  gw = await startTestGateway({ logger: log.logger });
});
afterAll(() => gw.close());

const PROMPT = 'Once upon a time a purple zebra named Quillon';
const requestLines = (reqId: string) => log.entries().filter((e) => e['msg'] === 'request' && e['reqId'] === reqId);

async function until<T>(what: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = what();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('access log', () => {
  it('logs a completion once, with counts and timings, and no prompt or output text', async () => {
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-plain-1' },
      body: JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: PROMPT }], max_tokens: 24, temperature: 0 }),
    });
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    const output = body.choices[0]!.message.content;
    expect(output.length).toBeGreaterThan(20);
    const [line, ...more] = await until(() => (requestLines('req-plain-1').length > 0 ? requestLines('req-plain-1') : undefined));
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 'info',
      role: 'gateway',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      model: MODEL_ID,
      stream: false,
      completionTokens: 24,
      finishReasons: ['length'],
      outcome: 'ok',
    });
    expect(line!['promptTokens']).toBeGreaterThan(5);
    expect(typeof line!['durationMs']).toBe('number');
    expect(typeof line!['queueMs']).toBe('number');
    expect(typeof line!['ttftMs']).toBe('number');
    const everything = log.raw();
    expect(everything).not.toContain('Quillon');
    expect(everything).not.toContain('zebra');
    expect(everything).not.toContain(output.trim());
  });

  it('logs a stream when it ends, with what it produced', async () => {
    const response = await fetch(`${gw.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-stream-1' },
      body: JSON.stringify({ model: MODEL_ID, prompt: PROMPT, max_tokens: 6, stream: true }),
    });
    await response.text();
    const [line] = await until(() => (requestLines('req-stream-1').length > 0 ? requestLines('req-stream-1') : undefined));
    expect(line).toMatchObject({ status: 200, stream: true, completionTokens: 6, finishReasons: ['length'], outcome: 'ok', route: '/v1/completions' });
    expect(requestLines('req-stream-1')).toHaveLength(1);
    expect(log.raw()).not.toContain('Quillon');
  });

  it('logs refusals and operations requests too, one line each', async () => {
    await (await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'req-health' } })).text();
    await (await fetch(`${gw.url}/nope`, { headers: { 'x-request-id': 'req-404' } })).text();
    await (
      await fetch(`${gw.baseURL}/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-400' },
        body: JSON.stringify({ model: MODEL_ID, prompt: PROMPT, temperature: 9 }),
      })
    ).text();
    expect(requestLines('req-health')).toEqual([expect.objectContaining({ status: 200, route: '/healthz' })]);
    expect(requestLines('req-404')).toEqual([expect.objectContaining({ status: 404, route: 'unmatched' })]);
    expect(requestLines('req-400')).toEqual([expect.objectContaining({ status: 400, route: '/v1/completions' })]);
    expect(log.raw()).not.toContain('Quillon');
  });
});
