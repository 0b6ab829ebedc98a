/**
 * Credentials and transport security with real processes: every HTTP route but /healthz and
 * every WebSocket upgrade needs the shared bearer token and is refused before any session state
 * exists; a gateway with the wrong token does not start (and says why); with TLS files the
 * whole system runs over https/wss with the gateway trusting a given CA; bad flags are all
 * reported at once.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealerSessionUrl, engineSessionUrl } from '../../protocol/transport/session-endpoints.js';
import { defaultModelDir, killAllRoles, startRole, waitForReadiness, type RoleProcess } from '../helpers/processes.js';
import { rawPeer } from '../helpers/raw-peer.js';

const token = randomBytes(24).toString('hex');
let dir: string;
let dealer: RoleProcess;
let engine: RoleProcess;
let pairingId: string;

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-credentials-'));
  dealer = await startRole('dealer', ['--port', '0'], { env: { PERMLLM_TOKEN: token } });
  engine = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', defaultModelDir, '--state-dir', path.join(dir, 'state'), '--probe-interval-ms', '300'], {
    env: { PERMLLM_TOKEN: token },
  });
  await waitForReadiness(engine.url, true, token);
  pairingId = ((await (await fetch(`${engine.url}/v1/model-card`, { headers: { authorization: `Bearer ${token}` } })).json()) as { pairing: { id: string } }).pairing.id;
});

afterAll(async () => {
  await killAllRoles();
  await rm(dir, { recursive: true, force: true });
});

const status = async (url: string, auth?: string) => (await fetch(url, { headers: auth === undefined ? {} : { authorization: auth } })).status;

describe('bearer token', () => {
  it('guards every control route but /healthz, on the engine and the dealer', async () => {
    for (const base of [engine.url, dealer.url]) {
      expect(await status(`${base}/healthz`)).toBe(200);
      expect(await status(`${base}/readyz`)).toBe(401);
      expect(await status(`${base}/metrics`, 'Bearer wrong-token-of-some-length')).toBe(401);
      expect(await status(`${base}/metrics`, `Bearer ${token}`)).toBe(200);
    }
    for (const route of ['/v1/model-card', '/v1/masked-model']) {
      expect(await status(`${engine.url}${route}`)).toBe(401);
      expect(await status(`${engine.url}${route}`, `Basic ${token}`)).toBe(401);
      expect(await status(`${engine.url}${route}`, `Bearer ${token}x`)).toBe(401);
    }
    expect(await status(`${engine.url}/v1/model-card`, `Bearer ${token}`)).toBe(200);
    expect(await status(`${dealer.url}/v1/pairings/${pairingId}`)).toBe(401);
    expect(await status(`${dealer.url}/v1/pairings/${pairingId}`, `Bearer ${token}`)).toBe(200);
  });

  it('refuses session upgrades without the right token (401) before any session starts', async () => {
    const session = randomBytes(16).toString('hex');
    for (const url of [engineSessionUrl(engine.url, session, pairingId), dealerSessionUrl(dealer.url, session, pairingId, 'gateway')]) {
      for (const wrong of [undefined, 'not-the-token-at-all']) {
        const refused = await rawPeer(url, wrong).catch((e: { status?: number }) => e);
        expect((refused as { status?: number }).status).toBe(401);
      }
    }
    // The id was never used: with the token the same session id is still accepted.
    const accepted = await rawPeer(engineSessionUrl(engine.url, session, pairingId), token);
    accepted.ws.close();
    const metrics = await (await fetch(`${engine.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/permllm_engine_connections_refused_total\{status="401"\} [2-9]/);
  });

  it('a gateway with the wrong token does not start, and says why', async () => {
    const failed = await startRole('gateway', ['--port', '0', '--engine', engine.url, '--dealer', dealer.url, '--cache-dir', path.join(dir, 'cache-wrong')], {
      env: { PERMLLM_TOKEN: 'this-is-not-the-right-token' },
    }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/HTTP 401.*bearer token/s);
  });

  it('an engine whose dealer refuses its token is not ready, and says why', async () => {
    const other = 'another-token-for-this-engine-only';
    const lonely = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', defaultModelDir, '--state-dir', path.join(dir, 'state2')], { env: { PERMLLM_TOKEN: other } });
    const reason = await waitForReadiness(lonely.url, /refused the engine's token/, other);
    expect(reason).toContain(dealer.url);
    await lonely.stop();
  });

  it('reports every bad flag at once and exits with status 2', async () => {
    const failed = await startRole('engine', ['--port', 'abc', '--tls-cert', path.join(dir, 'missing.pem'), '--bogus'], { env: {} }).catch((e: unknown) => e);
    const message = (failed as Error).message;
    expect(message).toContain('exited (2)');
    expect(message).toContain('--bogus: unknown flag');
    expect(message).toContain('--port: Expected number');
    expect(message).toContain('--dealer: Required');
    expect(message).toMatch(/--tls-cert: cannot read .*missing\.pem/);
    expect(message).toContain('--tls-key: TLS needs both --tls-cert and --tls-key');
  });
});

describe.runIf(hasOpenssl)('TLS', () => {
  it('runs the three processes over https/wss with the gateway trusting the given CA', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=permllm-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const env = { PERMLLM_TOKEN: token };
    const tls = ['--tls-cert', cert, '--tls-key', key];
    const secureDealer = await startRole('dealer', ['--port', '0', ...tls], { env });
    expect(secureDealer.url).toMatch(/^https:/);
    const secureEngine = await startRole('engine', ['--port', '0', ...tls, '--ca', cert, '--dealer', secureDealer.url, '--model', defaultModelDir, '--state-dir', path.join(dir, 'state-tls')], { env });
    expect(secureEngine.url).toMatch(/^https:/);

    const untrusting = await startRole('gateway', ['--port', '0', '--engine', secureEngine.url, '--dealer', secureDealer.url, '--cache-dir', path.join(dir, 'cache-tls')], { env }).catch((e: unknown) => e);
    expect((untrusting as Error).message).toMatch(/cannot verify the TLS certificate .*--ca/);

    const gateway = await startRole('gateway', ['--port', '0', '--ca', cert, '--engine', secureEngine.url, '--dealer', secureDealer.url, '--cache-dir', path.join(dir, 'cache-tls'), '--api-key', 'client-key'], { env });
    await waitForReadiness(gateway.url, true);
    expect(await status(`${gateway.url}/v1/models`)).toBe(401);
    const response = await fetch(`${gateway.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
      body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    const json = (await response.json()) as { choices: { text: string }[] };
    expect(json.choices[0]!.text).toBe(', there was a little g');
    await Promise.all([gateway.stop(), secureEngine.stop(), secureDealer.stop()]);
  });
});
