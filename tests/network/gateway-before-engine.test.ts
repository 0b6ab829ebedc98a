/**
 * A gateway started while its engine is unreachable and nothing is cached opens its port at
 * once: /healthz answers, /readyz says "not ready" and what it waits for, generation routes
 * answer 503; once the engine comes up the same port serves.
 */
import { createServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, killAllRoles, startRole, waitFor, waitForReadiness } from '../helpers/processes.js';

afterAll(() => killAllRoles());

/** A port nothing listens on (bound, read, released). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('gateway before engine', () => {
  it('serves /healthz and a not-ready /readyz with the reason until the engine is up', async () => {
    const trust = await prepareLocalTrust(await mkdtemp(path.join(tmpdir(), 'permllm-state-')));
    const enginePort = await freePort();
    const dealer = await startRole('dealer', ['--host', '127.0.0.1', '--port', '0'], { env: trust.env.dealer });
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'permllm-cache-'));
    const gateway = await startRole('gateway', ['--host', '127.0.0.1', '--port', '0', '--engine', `http://127.0.0.1:${enginePort}`, '--dealer', dealer.url, '--cache-dir', cacheDir, '--probe-interval-ms', '300'], {
      env: trust.env.gateway,
      ready: /permllm gateway bound to (\S+);/,
    });
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ready: boolean; reasons: string[] };
    expect(body.ready).toBe(false);
    expect(body.reasons[0]).toMatch(/engine/);
    const completion = await fetch(`${gateway.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(completion.status).toBe(503);
    expect(completion.headers.get('retry-after')).toBe('5');
    // The engine comes up on the port the gateway was told: the same gateway port becomes ready.
    const engine = await startRole('engine', ['--host', '127.0.0.1', '--port', String(enginePort), '--dealer', dealer.url, '--model', defaultModelDir, '--probe-interval-ms', '300'], { env: trust.env.engine });
    // A first start says what it does and how long each phase took (no silent minute).
    for (const phase of [/loaded \S+ in \d+\.\d s/, /calibrated the fixed-point plan and quantised \d+ weights to int16 .* in \d+\.\d s/, /computed the masked model's digest .* in \d+\.\d s/]) expect(engine.stderr()).toMatch(phase);
    await waitForReadiness(gateway.url, true);
    const models = await waitFor('the model list', async () => {
      const response = await fetch(`${gateway.url}/v1/models`);
      return response.status === 200 ? ((await response.json()) as { data: { id: string }[] }) : undefined;
    });
    expect(models.data[0]?.id).toBe('stories260K');
  });
});
