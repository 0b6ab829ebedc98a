/**
 * `permllm healthcheck` has two paths: bin/permllm.mjs's plain-JavaScript fast path
 * (cli/healthcheck-probe.mjs, no flags) and the TypeScript command (cli/healthcheck-command.ts).
 * They must agree: whenever the fast path takes a case, it probes exactly what the TypeScript
 * command would (same URL, CA and timeout), and it leaves every case the TypeScript command
 * refuses (exit 2) to it; both give the same exit codes against healthy, unhealthy, silent and
 * TLS servers; the binary itself answers the Docker case (no flags).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { healthcheckTarget, run } from '../../cli/healthcheck-command.js';
import { fastHealthcheck, plainHealthcheckTarget } from '../../cli/healthcheck-probe.mjs';
import { binPath } from '../helpers/processes.js';

const exec = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'permllm-healthcheck-'));
const certFile = path.join(dir, 'role.pem');
const keyFile = path.join(dir, 'role.key');
const notPem = path.join(dir, 'not.pem');
const servers: HttpServer[] = [];
let ok = '';
let unhealthy = '';
let silent = '';
let tls = '';
let closed = '';

async function listen(server: HttpServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

beforeAll(async () => {
  await exec(process.execPath, [path.resolve(import.meta.dirname, '../../deploy/scripts/tls-cert.mjs'), '--cn', 'role', '--san', 'DNS:localhost,IP:127.0.0.1', '--days', '1', '--cert', certFile, '--key', keyFile]);
  writeFileSync(notPem, 'not a certificate\n');
  ok = await listen(createHttpServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end('{}')));
  unhealthy = await listen(createHttpServer((_req, res) => res.writeHead(503).end('{"ready":false}')));
  silent = await listen(createHttpServer(() => undefined)); // accepts, never answers
  tls = await listen(createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) => res.writeHead(200).end('{}')));
  const spare = createHttpServer();
  closed = await listen(spare);
  await new Promise((resolve) => spare.close(resolve));
  servers.pop();
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

/** The TypeScript command's target, with what it wrote to stdout/stderr kept out of the test log. */
function typescriptTarget(argv: string[], env: NodeJS.ProcessEnv): ReturnType<typeof healthcheckTarget> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return healthcheckTarget(argv, env);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Runs `body` with these variables set in process.env (the TypeScript command reads it). */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const names = ['PORT', 'PERMLLM_HEALTHCHECK_URL', 'PERMLLM_CA_FILE', 'PERMLLM_HEALTHCHECK_TIMEOUT_MS'];
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) delete process.env[n];
  Object.assign(process.env, env);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await body();
  } finally {
    err.mockRestore();
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

describe('permllm healthcheck: the fast path and the TypeScript command agree', () => {
  const cases: { name: string; env: Record<string, string>; argv?: string[]; fast: boolean }[] = [
    { name: 'nothing set (the image default)', env: {}, fast: true },
    { name: 'PORT', env: { PORT: '9001' }, fast: true },
    { name: 'empty PORT', env: { PORT: '' }, fast: true },
    { name: 'compose: https URL and CA file', env: { PERMLLM_HEALTHCHECK_URL: 'https://localhost:8082/healthz', PERMLLM_CA_FILE: certFile }, fast: true },
    { name: 'empty variables count as unset', env: { PERMLLM_HEALTHCHECK_URL: '', PERMLLM_CA_FILE: '', PERMLLM_HEALTHCHECK_TIMEOUT_MS: '' }, fast: true },
    { name: 'timeout', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: '1500' }, fast: true },
    { name: 'timeout 1e3', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: '1e3' }, fast: true },
    { name: 'timeout 0', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: '0' }, fast: false },
    { name: 'timeout -5', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: '-5' }, fast: false },
    { name: 'timeout 1.5', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: '1.5' }, fast: false },
    { name: 'timeout abc', env: { PERMLLM_HEALTHCHECK_TIMEOUT_MS: 'abc' }, fast: false },
    { name: 'not a URL', env: { PERMLLM_HEALTHCHECK_URL: 'localhost:8080' }, fast: false },
    { name: 'not http(s)', env: { PERMLLM_HEALTHCHECK_URL: 'ftp://127.0.0.1/healthz' }, fast: false },
    { name: 'missing CA file', env: { PERMLLM_CA_FILE: path.join(dir, 'absent.pem') }, fast: false },
    { name: 'CA file that is not PEM', env: { PERMLLM_CA_FILE: notPem }, fast: false },
    { name: 'a flag', env: {}, argv: ['--url', 'http://127.0.0.1:1/healthz'], fast: false },
    { name: '--help', env: {}, argv: ['--help'], fast: false },
    { name: 'an unknown flag', env: {}, argv: ['--nope'], fast: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.fast ? 'fast path, same target' : 'left to the TypeScript command'}`, () => {
      const argv = c.argv ?? [];
      const fast = plainHealthcheckTarget(argv, c.env);
      const typescript = typescriptTarget(argv, c.env);
      if (c.fast) {
        expect(fast).toBeDefined();
        expect(typescript).toEqual({ ca: undefined, ...fast });
      } else {
        expect(fast).toBeUndefined();
      }
      // Never the other way round: whatever the TypeScript command refuses, the fast path leaves to it.
      if ('exitCode' in typescript) expect(fast).toBeUndefined();
    });
  }

  it('give the same exit codes against healthy, unhealthy, silent, closed and TLS servers', async () => {
    const url = (port: string, scheme = 'http', host = '127.0.0.1') => `${scheme}://${host}:${port}/healthz`;
    const situations: { env: Record<string, string>; code: number }[] = [
      { env: { PORT: ok }, code: 0 },
      { env: { PERMLLM_HEALTHCHECK_URL: url(unhealthy) }, code: 1 },
      { env: { PERMLLM_HEALTHCHECK_URL: url(silent), PERMLLM_HEALTHCHECK_TIMEOUT_MS: '300' }, code: 1 },
      { env: { PERMLLM_HEALTHCHECK_URL: url(closed) }, code: 1 },
      { env: { PERMLLM_HEALTHCHECK_URL: url(tls, 'https', 'localhost'), PERMLLM_CA_FILE: certFile }, code: 0 },
      // Without the CA the self-signed certificate is refused; with it, a name it does not carry is.
      { env: { PERMLLM_HEALTHCHECK_URL: url(tls, 'https', 'localhost') }, code: 1 },
      { env: { PERMLLM_HEALTHCHECK_URL: url(tls, 'https', 'localhost.localdomain'), PERMLLM_CA_FILE: certFile }, code: 1 },
    ];
    for (const s of situations) {
      const [fast, typescript] = await withEnv(s.env, async () => [await fastHealthcheck([], process.env), await run([])]);
      expect({ env: s.env, fast, typescript }).toEqual({ env: s.env, fast: s.code, typescript: s.code });
    }
  });

  it('the binary answers the Docker HEALTHCHECK (no flags): 0 when healthy, 1 when not, 2 for a bad variable', async () => {
    const probe = async (env: Record<string, string>) => {
      try {
        await exec(process.execPath, [binPath, 'healthcheck'], { env: { PATH: process.env['PATH'] ?? '', ...env } });
        return { code: 0, stderr: '' };
      } catch (error) {
        const failed = error as { code: number; stderr: string };
        return { code: failed.code, stderr: failed.stderr };
      }
    };
    expect((await probe({ PORT: ok })).code).toBe(0);
    const down = await probe({ PERMLLM_HEALTHCHECK_URL: `http://127.0.0.1:${unhealthy}/healthz` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('answered 503');
    // A malformed variable falls through to the TypeScript command, which names it (exit 2).
    const bad = await probe({ PORT: ok, PERMLLM_HEALTHCHECK_TIMEOUT_MS: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('$PERMLLM_HEALTHCHECK_TIMEOUT_MS');
  });
});
