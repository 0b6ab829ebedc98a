/**
 * Operational surface: /healthz, /readyz, /v1/models, /metrics, request ids, CORS for the
 * official browser SDK, and the Host check of a loopback-bound gateway.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ corsOrigins: ['https://app.example'] });
});
afterAll(() => gw.close());

/** A raw HTTP/1.1 GET with a chosen Host header (fetch does not let tests set Host). */
function rawGet(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

describe('operations endpoints', () => {
  it('/healthz and /readyz answer', async () => {
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
  });

  it('lists and retrieves the served model through the official client', async () => {
    const list = await gw.openai.models.list();
    expect(list.data).toEqual([
      { id: MODEL_ID, object: 'model', created: gw.backend.modelInfo.created, owned_by: 'permllm', context_length: 512 },
    ]);
    const model = await gw.openai.models.retrieve(MODEL_ID);
    expect(model.id).toBe(MODEL_ID);
  });

  it('echoes a valid x-request-id and generates one otherwise', async () => {
    const echoed = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'trace-abc_123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc_123');
    const generated = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const { response } = await gw.openai.models.list().withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('/metrics counts requests by route and status, latencies, tokens and protocol bytes', async () => {
    const stream = await gw.openai.chat.completions.create({
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 4,
      stream: true,
    });
    for await (const chunk of stream) void chunk;
    await gw.openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    const response = await fetch(`${gw.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('permllm_http_requests_total{route="/v1/chat/completions",method="POST",status="200"} 1');
    expect(text).toContain('permllm_http_requests_total{route="/v1/chat/completions",method="POST",status="404"} 1');
    const model = `model_name="${MODEL_ID}"`;
    expect(text).toContain(`permllm_time_to_first_token_seconds_count{${model}} 1`);
    expect(text).toContain(`permllm_inter_token_latency_seconds_count{${model}} 3`);
    expect(text).toContain(`permllm_e2e_request_latency_seconds_count{${model}} 1`);
    expect(text).toContain(`permllm_request_queue_time_seconds_count{${model}} 1`);
    expect(text).toContain(`permllm_request_success_total{${model},finished_reason="length"} 1`);
    expect(text).toContain(`permllm_generation_tokens_total{${model}} 4`);
    expect(text).toMatch(new RegExp(`permllm_prompt_tokens_total\\{${model}\\} [1-9]`));
    expect(text).toContain(`permllm_request_generation_tokens_sum{${model}} 4`);
    // The 404 for an unknown model never reached generation: no error counted for it.
    expect(text).not.toContain('permllm_request_errors_total{');
    // Process metrics of the gateway itself (prom-client's defaults), event-loop lag included.
    expect(text).toMatch(/permllm_gateway_process_resident_memory_bytes \d+/);
    expect(text).toMatch(/permllm_gateway_nodejs_eventloop_lag_max_seconds [\d.e-]+/);
    // Native memory beside RSS (observability/process-memory.ts): ArrayBuffers and node-seal's WASM heap.
    expect(text).toMatch(/permllm_gateway_array_buffers_bytes [1-9]\d*/);
    expect(text).toMatch(/permllm_gateway_wasm_heap_bytes \d+/);
    // Zero on the plaintext backend, the protocol's traffic on the private one.
    for (const direction of ['to_engine', 'from_engine', 'dealer']) {
      expect(text).toMatch(new RegExp(`permllm_protocol_bytes_total\\{direction="${direction}"\\} \\d+`));
    }
    expect(text).toContain('permllm_protocol_phase_seconds_count{phase="prefill"} 1');
    expect(text).toContain('permllm_requests_in_flight 0');
    expect(text).toContain('permllm_requests_queued 0');
  });
});

describe('CORS', () => {
  const preflight = (origin: string, headers: string) =>
    fetch(`${gw.baseURL}/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    });
  const sdkHeaders =
    'authorization,content-type,x-stainless-os,x-stainless-lang,x-stainless-retry-count,x-stainless-timeout,openai-organization,openai-project';

  it('admits the official browser SDK headers from loopback and configured origins', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'https://app.example']) {
      const response = await preflight(origin, `${sdkHeaders},x-evil`);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      const allowed = response.headers.get('access-control-allow-headers')?.split(',') ?? [];
      expect(allowed).toEqual(sdkHeaders.split(','));
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    }
  });

  it('refuses other origins, and exposes the gateway headers on actual responses', async () => {
    const refused = await preflight('https://evil.example', sdkHeaders);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const actual = await fetch(`${gw.baseURL}/models`, { headers: { origin: 'https://app.example' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(actual.headers.get('access-control-expose-headers')).toContain('x-permllm-stats');
  });

  it('admits any origin when configured with "*"', async () => {
    const open = await startTestGateway({ corsOrigins: ['*'] });
    try {
      const response = await fetch(`${open.baseURL}/models`, { method: 'OPTIONS', headers: { origin: 'https://anything.example', 'access-control-request-method': 'GET' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await open.close();
    }
  });
});

describe('Host check (DNS-rebinding defence) when bound to loopback', () => {
  it('answers loopback names and refuses others with 403 invalid_host', async () => {
    const port = gw.server.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) {
      expect((await rawGet(`${gw.url}/healthz`, host)).status).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`]) {
      const { status, body } = await rawGet(`${gw.url}/healthz`, host);
      expect(status).toBe(403);
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'invalid_host', type: 'invalid_request_error' } });
    }
  });

  it('accepts extra names given in allowedHosts, besides the loopback ones', async () => {
    const named = await startTestGateway({ allowedHosts: ['gateway.lan'] });
    try {
      expect((await rawGet(`${named.url}/healthz`, `gateway.lan:${named.server.port}`)).status).toBe(200);
      expect((await rawGet(`${named.url}/healthz`, `127.0.0.1:${named.server.port}`)).status).toBe(200);
      expect((await rawGet(`${named.url}/healthz`, `evil.example:${named.server.port}`)).status).toBe(403);
    } finally {
      await named.close();
    }
  });
});
