/**
 * Graceful shutdown of the gateway (what SIGTERM runs): in-flight streams that finish within
 * the grace period complete normally; those still running after it end with the single error
 * frame `server_shutting_down`, queued requests get a 503, and new connections are refused.
 * Also: Retry-After estimates the wait from real slot hold times, and /readyz reflects capacity.
 */
import { describe, expect, it } from 'vitest';
import { GatedBackend } from './helpers/gated-backend.js';
import { dataObjects, SseReader } from './helpers/sse.js';
import { createTestBackend, MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway } from './helpers/test-gateway.js';

const streamBody = (max = 8) => JSON.stringify({ model: MODEL_ID, prompt: 'Once upon a time', max_tokens: max, stream: true, temperature: 0 });
const post = (url: string, body: string) => fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('graceful shutdown', () => {
  it('ends a stream still running after the grace period with an error frame', async () => {
    const gated = new GatedBackend(await createTestBackend(), 2);
    const gw = await startTestGateway({ backend: gated });
    const response = await post(gw.url, streamBody());
    const reader = new SseReader(response.body!);
    await gated.started;
    const shutdown = gw.server.shutdown(300);
    const frames = await reader.rest();
    expect(await shutdown).toEqual({ ended: 1 });
    const objects = dataObjects(frames);
    const last = objects.at(-1) as { error?: { code: string; type: string } };
    expect(last.error).toMatchObject({ code: 'server_shutting_down', type: 'server_error' });
    // The tokens produced before the grace ran out were delivered first; no [DONE] after an error.
    expect(objects.filter((o) => 'choices' in o).length).toBeGreaterThanOrEqual(2);
    expect(frames).not.toContain('data: [DONE]');
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  });

  it('lets a stream that finishes within the grace period complete, and refuses new connections meanwhile', async () => {
    const gated = new GatedBackend(await createTestBackend(), 1);
    const gw = await startTestGateway({ backend: gated });
    const response = await post(gw.url, streamBody(4));
    const reader = new SseReader(response.body!);
    await gated.started;
    const shutdown = gw.server.shutdown(10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
    expect(gw.server.gateway.shutdown.draining).toBe(true);
    gated.gate.open();
    const frames = await reader.rest();
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(dataObjects(frames).some((o) => 'error' in o)).toBe(false);
    expect(await shutdown).toEqual({ ended: 0 });
  });

  it('answers a queued request with 503 server_shutting_down once the grace period is over', async () => {
    const gated = new GatedBackend(await createTestBackend(), 0);
    const gw = await startTestGateway({ backend: gated, maxConcurrent: 1, maxQueue: 4 });
    const first = post(gw.url, streamBody());
    await gated.started;
    const second = post(gw.url, JSON.stringify({ model: MODEL_ID, prompt: 'Once', max_tokens: 2 }));
    await expect.poll(() => gw.server.gateway.admission.queued).toBe(1);
    const shutdown = gw.server.shutdown(200);
    const queued = await second;
    expect(queued.status).toBe(503);
    expect(((await queued.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down');
    await (await first).text();
    expect((await shutdown).ended).toBe(2);
  });
});

describe('Retry-After and readiness under load', () => {
  it('estimates Retry-After from how long slots are held, and /readyz says the gateway is full', async () => {
    const gated = new GatedBackend(await createTestBackend(), 0);
    const gw = await startTestGateway({ backend: gated, maxConcurrent: 1, maxQueue: 0, retryAfterSeconds: 1 });
    const one = JSON.stringify({ model: MODEL_ID, prompt: 'Once', max_tokens: 1 });
    try {
      const held = post(gw.url, one);
      await gated.started;
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons[0]).toBe('at capacity: 1 of 1 backend sessions generating and 0 queued');
      // Before any request finished, the floor is all it knows.
      const early = await post(gw.url, one);
      expect(early.status).toBe(429);
      expect(early.headers.get('retry-after')).toBe('1');
      // The first request holds its slot about 2.2 s; then the slot is taken again.
      await new Promise((resolve) => setTimeout(resolve, 2200));
      gated.gate.open();
      expect((await held).status).toBe(200);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      const busy = await post(gw.url, JSON.stringify({ model: MODEL_ID, prompt: 'Once', max_tokens: 300, stream: true }));
      const refused = await post(gw.url, one);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(3);
      await busy.body?.cancel();
    } finally {
      await gw.close();
    }
  });
});
