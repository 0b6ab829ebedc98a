/**
 * Real role processes for tests: `node bin/permllm.mjs <role> ...` on 127.0.0.1 with ephemeral
 * ports, each reporting its URL on stdout ("... listening on URL"). Every process gets an IPC
 * channel, so it exits by itself if the test worker dies. Waits are bounded loops (a number of
 * attempts), never timed assertions.
 *
 *   const parties = await startThreeParties();      // dealer, engine (paired), gateway; identities
 *                                                    // and credentials as `npm start` makes them
 *   await parties.waitUntilReady();
 *   ... fetch(`${parties.gateway.url}/v1/completions`) ...
 *   await parties.engine.kill();                     // kill -9
 *   await parties.restart('engine');                 // same port, same state folder
 *   await parties.stop();
 *
 * The gateway API conformance suite can point at this system through networked-backend.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { prepareLocalTrust, type LocalTrust } from '../../cli/local-trust.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin/permllm.mjs');
export const defaultModelDir = process.env['PERMLLM_MODEL_DIR'] ?? path.resolve(repoRoot, '../shared/models/stories260K');

export type Role = 'engine' | 'dealer' | 'gateway' | 'start';

export interface RoleProcess {
  role: Role;
  child: ChildProcess;
  pid: number;
  /** What the process printed after "listening on" (http://127.0.0.1:PORT). */
  url: string;
  port: number;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceAttempts` × 100 ms. */
  stop(graceAttempts?: number): Promise<void>;
}

export interface StartRoleOptions {
  env?: Record<string, string>;
  /** Pattern on stdout that means "started"; its first group is the URL. */
  ready?: RegExp;
  /** Node flags before the script (e.g. --cpu-prof), for diagnostics. */
  execArgv?: readonly string[] | undefined;
}

const live = new Set<RoleProcess>();

/** Spawns `permllm <role> ...args` and resolves once it prints its URL (rejects if it exits first). */
export async function startRole(role: Role, args: readonly string[], options: StartRoleOptions = {}): Promise<RoleProcess> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? tmpdir(),
    ...options.env,
  };
  const child = spawn(process.execPath, [...(options.execArgv ?? []), binPath, role, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.on('error', () => undefined);
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = options.ready ?? / listening on (\S+)/;
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      out += `${line}\n`;
      const match = ready.exec(line);
      if (match) resolve(match[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`permllm ${role} exited (${code ?? signal}) before it was ready.\nstderr:\n${err}`)));
  });
  let running = true;
  void exited.then(() => {
    running = false;
    live.delete(proc);
  });
  const proc: RoleProcess = {
    role,
    child,
    pid: child.pid!,
    url,
    port: Number(new URL(url).port),
    args,
    env,
    stdout: () => out,
    stderr: () => err,
    exited,
    get running() {
      return running;
    },
    async kill(signal = 'SIGKILL') {
      if (running) child.kill(signal);
      await exited;
    },
    async stop(graceAttempts = 100) {
      if (!running) return;
      child.kill('SIGTERM');
      for (let i = 0; i < graceAttempts && running; i++) await sleep(100);
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
  live.add(proc);
  return proc;
}

/** Kills every role process still running (afterAll safety net). */
export async function killAllRoles(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGKILL')));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined), at most `attempts` times. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, attempts = 400, intervalMs = 250): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function readiness(url: string, token?: string): Promise<{ status: number; body: { ready: boolean; reasons: string[] } }> {
  const response = await fetch(`${url}/readyz`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as { ready: boolean; reasons: string[] } };
}

/** Waits until GET /readyz answers ready (`want` true) or not ready with a reason matching `want`. */
export async function waitForReadiness(url: string, want: true | RegExp, token?: string): Promise<string> {
  return waitFor(`${url}/readyz to be ${want === true ? 'ready' : `not ready (${want})`}`, async () => {
    const { body } = await readiness(url, token);
    if (want === true) return body.ready ? 'ready' : undefined;
    const reason = body.reasons.join('; ');
    return !body.ready && want.test(reason) ? reason : undefined;
  });
}

export interface ThreePartiesOptions {
  model?: string;
  /** Extra flags per role. */
  args?: Partial<Record<'engine' | 'dealer' | 'gateway', string[]>>;
  /** Folders to reuse (default: fresh temporary ones, removed by stop()); the parties' state lives in <stateDir>/{engine,dealer,gateway}. */
  stateDir?: string;
  cacheDir?: string;
  /** Node flags per role (e.g. --cpu-prof), for diagnostics. */
  execArgv?: Partial<Record<'engine' | 'dealer' | 'gateway', string[]>>;
  /** Extra environment variables per role (e.g. glibc's MALLOC_ARENA_MAX), for diagnostics. */
  env?: Partial<Record<'engine' | 'dealer' | 'gateway', Record<string, string>>>;
}

export interface ThreeParties {
  dealer: RoleProcess;
  engine: RoleProcess;
  gateway: RoleProcess;
  /** Identities and credentials of the three (cli/local-trust.ts). */
  trust: LocalTrust;
  /** The user credential the gateway runs with (the engine's model card, readiness, sessions). */
  token: string;
  stateDir: string;
  cacheDir: string;
  /** The OpenAI base URL (gateway + /v1). */
  baseURL: string;
  /** Restarts a role with the same flags on the same port (after kill/stop). */
  restart(role: 'engine' | 'dealer' | 'gateway'): Promise<RoleProcess>;
  waitUntilReady(): Promise<void>;
  /** Stops all three and removes the temporary folders it created. */
  stop(): Promise<void>;
}

const withPort = (args: readonly string[], port: number) => {
  const copy = [...args];
  const i = copy.indexOf('--port');
  if (i >= 0) copy[i + 1] = String(port);
  return copy;
};

export async function startThreeParties(options: ThreePartiesOptions = {}): Promise<ThreeParties> {
  const ownDirs: string[] = [];
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(tmpdir(), 'permllm-state-')));
  const cacheDir = options.cacheDir ?? (await mkdtemp(path.join(tmpdir(), 'permllm-cache-')));
  if (!options.stateDir) ownDirs.push(stateDir);
  if (!options.cacheDir) ownDirs.push(cacheDir);
  const trust = await prepareLocalTrust(stateDir);
  const token = trust.userCredential;
  const fast = ['--probe-interval-ms', '300'];
  const dealer = await startRole('dealer', ['--host', '127.0.0.1', '--port', '0', '--rendezvous-timeout-ms', '3000', ...(options.args?.dealer ?? [])], {
    env: { ...trust.env.dealer, ...options.env?.dealer },
    execArgv: options.execArgv?.dealer,
  });
  const engine = await startRole(
    'engine',
    ['--host', '127.0.0.1', '--port', '0', '--dealer', dealer.url, '--model', options.model ?? defaultModelDir, ...fast, ...(options.args?.engine ?? [])],
    { env: { ...trust.env.engine, ...options.env?.engine }, execArgv: options.execArgv?.engine },
  );
  const gateway = await startRole(
    'gateway',
    ['--host', '127.0.0.1', '--port', '0', '--engine', engine.url, '--dealer', dealer.url, '--cache-dir', cacheDir, ...fast, ...(options.args?.gateway ?? [])],
    { env: { ...trust.env.gateway, ...options.env?.gateway }, execArgv: options.execArgv?.gateway },
  );
  const parties: ThreeParties = {
    dealer,
    engine,
    gateway,
    trust,
    token,
    stateDir,
    cacheDir,
    baseURL: `${gateway.url}/v1`,
    async restart(role) {
      const old = parties[role];
      if (old.running) await old.stop();
      const fresh = await startRole(role, withPort(old.args, old.port), { env: old.env, execArgv: options.execArgv?.[role] });
      parties[role] = fresh;
      return fresh;
    },
    async waitUntilReady() {
      await waitForReadiness(parties.gateway.url, true);
    },
    async stop() {
      await Promise.all([parties.gateway.stop(), parties.engine.stop(), parties.dealer.stop()]);
      await Promise.all(ownDirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  return parties;
}
