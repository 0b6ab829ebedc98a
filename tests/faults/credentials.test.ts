/**
 * Credentials, identities and transport security with real processes: /healthz names each
 * server's identity; a gateway with a wrong credential does not start (and says why); an engine
 * whose link credential the dealer refuses is not ready (and says why); plain-text links to other
 * machines and servers on other interfaces without TLS are refused unless --insecure; bad flags
 * are all reported at once; with TLS files the whole system runs over https/wss with the
 * gateway trusting a given CA. (The attacks themselves: trust-attacks.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalTrust, type LocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, killAllRoles, startRole, waitForReadiness, type RoleProcess } from '../helpers/processes.js';

let dir: string;
let trust: LocalTrust;
let dealer: RoleProcess;
let engine: RoleProcess;

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
  trust = await prepareLocalTrust(path.join(dir, 'state'));
  dealer = await startRole('dealer', ['--port', '0'], { env: trust.env.dealer });
  engine = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', defaultModelDir, '--probe-interval-ms', '300'], { env: trust.env.engine });
  await waitForReadiness(engine.url, true, trust.userCredential);
});

afterAll(async () => {
  await killAllRoles();
  await rm(dir, { recursive: true, force: true });
});

const status = async (url: string, auth?: string) => (await fetch(url, { headers: auth === undefined ? {} : { authorization: auth } })).status;
const fails = (started: Promise<RoleProcess>) => started.then(
  async (p) => {
    await p.stop();
    throw new Error(`permllm ${p.role} started, but should have refused`);
  },
  (e: Error) => e.message,
);

describe('identities and credentials', () => {
  it('/healthz names each server\'s identity, as printed at start-up', async () => {
    for (const [server, fingerprint] of [[engine, trust.fingerprints.engine], [dealer, trust.fingerprints.dealer]] as const) {
      const body = (await (await fetch(`${server.url}/healthz`)).json()) as { identity: { fingerprint: string } };
      expect(body.identity.fingerprint).toBe(fingerprint);
      expect(server.stdout()).toContain(`identity ${fingerprint}`);
    }
    expect(await status(`${engine.url}/readyz`)).toBe(401);
    expect(await status(`${engine.url}/readyz`, `Basic ${trust.userCredential}`)).toBe(401);
    expect(await status(`${engine.url}/readyz`, `Bearer ${trust.userCredential}x`)).toBe(401);
    expect(await status(`${engine.url}/readyz`, `Bearer ${trust.userCredential}`)).toBe(200);
  });

  it('a gateway with a wrong credential does not start, and says why', async () => {
    const message = await fails(
      startRole('gateway', ['--port', '0', '--engine', engine.url, '--dealer', dealer.url, '--cache-dir', path.join(dir, 'cache-wrong')], {
        env: { ...trust.env.gateway, PERMLLM_CREDENTIAL: 'permllm-user-00000000-this-is-not-it' },
      }),
    );
    expect(message).toMatch(/HTTP 401.*unknown or revoked credential/s);
  });

  it('an engine whose link credential the dealer refuses is not ready, and says why', async () => {
    const lonely = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', defaultModelDir], { env: { ...trust.env.engine, PERMLLM_DEALER_CREDENTIAL: 'permllm-link-not-the-right-one' } });
    const reason = await waitForReadiness(lonely.url, /refused the engine's link credential/, trust.userCredential);
    expect(reason).toContain(dealer.url);
    await lonely.stop();
  });
});

describe('flags', () => {
  it('refuses plain-text links to other machines, and servers on other interfaces without TLS, unless --insecure', async () => {
    const gateway = await fails(startRole('gateway', ['--engine', 'http://192.0.2.7:8081', '--dealer', 'https://192.0.2.8:8082'], { env: {} }));
    expect(gateway).toContain('exited (2)');
    expect(gateway).toContain('--engine: http://192.0.2.7:8081 is a plain-text link to another machine');
    const server = await fails(startRole('dealer', ['--host', '0.0.0.0', '--port', '0'], { env: { PERMLLM_STATE_DIR: path.join(dir, 'open') } }));
    expect(server).toContain('--host: serving on 0.0.0.0 without TLS would send credentials in clear');
    const engineLink = await fails(startRole('engine', ['--dealer', 'http://192.0.2.8:8082'], { env: {} }));
    expect(engineLink).toContain('--dealer: http://192.0.2.8:8082 is a plain-text link to another machine');
    const insecure = await startRole('dealer', ['--host', '0.0.0.0', '--port', '0', '--insecure'], { env: { PERMLLM_STATE_DIR: path.join(dir, 'open') } });
    expect(insecure.stderr()).toContain('--insecure');
    await insecure.stop();
  });

  it('reports every bad flag at once and exits with status 2', async () => {
    const message = await fails(startRole('engine', ['--port', 'abc', '--tls-cert', path.join(dir, 'missing.pem'), '--bogus', '--dealer-fingerprint', 'abc'], { env: {} }));
    expect(message).toContain('exited (2)');
    expect(message).toContain('--bogus: unknown flag');
    expect(message).toContain('--port: Expected number');
    expect(message).toContain('--dealer: Required');
    expect(message).toMatch(/--tls-cert: cannot read .*missing\.pem/);
    expect(message).toContain('--tls-key: TLS needs both --tls-cert and --tls-key');
    expect(message).toContain('--dealer-fingerprint: expected a fingerprint');
  });
});

describe.runIf(hasOpenssl)('TLS', () => {
  it('runs the three processes over https/wss with the gateway trusting the given CA', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=permllm-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tlsTrust = await prepareLocalTrust(path.join(dir, 'state-tls'));
    const tls = ['--tls-cert', cert, '--tls-key', key];
    const secureDealer = await startRole('dealer', ['--port', '0', ...tls], { env: tlsTrust.env.dealer });
    expect(secureDealer.url).toMatch(/^https:/);
    const secureEngine = await startRole('engine', ['--port', '0', ...tls, '--ca', cert, '--dealer', secureDealer.url, '--model', defaultModelDir], { env: tlsTrust.env.engine });
    expect(secureEngine.url).toMatch(/^https:/);

    const untrusting = await startRole('gateway', ['--port', '0', '--engine', secureEngine.url, '--dealer', secureDealer.url, '--cache-dir', path.join(dir, 'cache-tls')], { env: tlsTrust.env.gateway }).catch((e: unknown) => e);
    expect((untrusting as Error).message).toMatch(/cannot verify the TLS certificate .*--ca/);

    const gateway = await startRole('gateway', ['--port', '0', '--ca', cert, '--engine', secureEngine.url, '--dealer', secureDealer.url, '--cache-dir', path.join(dir, 'cache-tls'), '--api-key', 'client-key'], { env: tlsTrust.env.gateway });
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
