/**
 * `permllm start` (= `npm start`): the engine, the dealer and the gateway as three child
 * processes on this machine, with the default model. Engine and dealer bind 127.0.0.1 on free
 * ports; their identities and the role credentials are created on the first run under
 * ~/.local/state/permllm/start (cli/local-trust.ts: each party gets the others' fingerprints
 * pinned and only its own credentials, in the environment, never on a command line); the
 * gateway serves the OpenAI API on 127.0.0.1:8080 (or PORT / --port). Ctrl-C or SIGTERM stops
 * all three; if one of them dies, the others are stopped too.
 *
 * What it protects: nothing against whoever controls this machine, since all three parties run
 * here. It shows the real deployment's processes and protocol; in production the engine, the
 * dealer and the gateway belong to three different parties (docs/deploy.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { allocatorEnvironment } from '../config/allocator.js';
import { readCommandLine, usageText } from '../config/parse-flags.js';
import { exitSoon, stopSignal } from '../config/process-lifecycle.js';
import { startConfigSchema, startFlags } from '../config/start-config.js';
import { defaultStateDir } from '../config/common-schemas.js';
import { prepareLocalTrust } from './local-trust.js';

const USAGE = usageText('start', 'Engine, dealer and gateway on this machine, as three processes (npm start).', startFlags);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/permllm.mjs');

interface Child {
  role: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  url: Promise<string>;
}

function startChild(role: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [BIN, role, ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const url = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const match = / listening on (\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`the ${role} exited (code ${code}) before it was listening`)));
  });
  url.catch(() => undefined);
  return { role, process: child, exited, url };
}

/** Polls the gateway's /readyz until it is ready (the first run downloads the masked model). */
async function untilReady(url: string, gateway: Child, signal: AbortSignal): Promise<void> {
  let said = '';
  while (!signal.aborted && gateway.process.exitCode === null) {
    try {
      const response = await fetch(`${url}/readyz`);
      const body = (await response.json()) as { ready?: boolean; reasons?: string[] };
      if (body.ready) return;
      const reason = body.reasons?.join('; ') ?? '';
      if (reason && !/^(downloading|loading)/.test(reason) && reason !== said) process.stderr.write(`permllm start: waiting for the gateway: ${reason}\n`);
      said = reason;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (signal.aborted) throw new Error('stopped');
  throw new Error('the gateway exited before it was ready');
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
  await child.exited;
  clearTimeout(timer);
}

export async function run(argv: string[]): Promise<number> {
  const read = readCommandLine('start', USAGE, argv, startFlags, startConfigSchema);
  if ('exitCode' in read) return read.exitCode;
  const { config } = read;
  const stop = stopSignal();
  const trust = await prepareLocalTrust(defaultStateDir('start'));
  process.stdout.write(`permllm start: identities and credentials in ${path.dirname(trust.dirs.engine)} (engine ${trust.fingerprints.engine}, dealer ${trust.fingerprints.dealer})\n`);
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'PERMLLM_STATE_DIR', 'PERMLLM_CREDENTIAL', 'PERMLLM_DEALER_CREDENTIAL', 'PERMLLM_LINK_CREDENTIAL', 'PERMLLM_OPERATOR_CREDENTIAL', 'PERMLLM_ENGINE_FINGERPRINT', 'PERMLLM_DEALER_FINGERPRINT']) delete base[name];
  const envOf = (party: 'engine' | 'dealer' | 'gateway'): NodeJS.ProcessEnv => ({ ...base, ...trust.env[party] });
  // People watching `npm start` in a terminal read the pretty form; pipes and files get JSON.
  if (base['PERMLLM_LOG_FORMAT'] === undefined && process.stderr.isTTY) base['PERMLLM_LOG_FORMAT'] = 'pretty';
  // Children are SIGKILLed 10 s after SIGTERM (stopChild): their grace period must end before that.
  base['PERMLLM_SHUTDOWN_GRACE_MS'] ??= '5000';
  // The children's allocator (config/allocator.ts; the image sets the same): jemalloc where
  // installed, else glibc with the image's settings; variables the caller set win.
  try {
    const allocator = allocatorEnvironment(config.allocator, base);
    Object.assign(base, allocator.env);
    const said = allocator.allocator === 'jemalloc' ? `jemalloc (${allocator.env['LD_PRELOAD']})` : allocator.allocator === 'glibc' ? 'glibc malloc' : `your LD_PRELOAD (${base['LD_PRELOAD']})`;
    process.stdout.write(`permllm start: the three run on ${said}\n`);
  } catch (error) {
    process.stderr.write(`permllm start: ${(error as Error).message}\n`);
    return 2;
  }
  // Each party runs its products where --device says (the engine's are the ones a GPU speeds up most).
  const compute = ['--device', config.device, '--compute-threads', String(config['compute-threads'])];
  const children: Child[] = [];
  const stopAll = async () => {
    for (const child of [...children].reverse()) await stopChild(child);
  };
  try {
    const dealer = startChild('dealer', ['--host', '127.0.0.1', '--port', '0', ...compute], envOf('dealer'));
    children.push(dealer);
    const dealerUrl = await Promise.race([dealer.url, stop.stopped.then(() => Promise.reject(new Error('stopped')))]);
    // The dealer's port changes every run: a fixed dealer name keeps the same pairing key, so
    // the gateway's cached masked model stays valid across runs.
    const engine = startChild('engine', ['--host', '127.0.0.1', '--port', '0', '--dealer', dealerUrl, '--dealer-name', 'permllm-start-local', ...compute, ...(config.model ? ['--model', config.model] : [])], envOf('engine'));
    children.push(engine);
    const engineUrl = await Promise.race([engine.url, stop.stopped.then(() => Promise.reject(new Error('stopped')))]);
    const gatewayEnv = config['api-key'] === undefined ? envOf('gateway') : { ...envOf('gateway'), PERMLLM_API_KEY: config['api-key'] };
    const gateway = startChild('gateway', ['--host', config.host, '--port', String(config.port), '--engine', engineUrl, '--dealer', dealerUrl, ...compute], gatewayEnv);
    children.push(gateway);
    const gatewayUrl = await Promise.race([gateway.url, stop.stopped.then(() => Promise.reject(new Error('stopped')))]);
    await untilReady(gatewayUrl, gateway, stop.signal);
    process.stdout.write(
      `\nPermLLM is running: OpenAI base URL ${gatewayUrl}/v1\n` +
        '  engine, dealer and gateway are three processes on this machine: this shows the protocol, but protects\n' +
        '  nothing from whoever controls this machine (see docs/deploy.md for a real deployment).\n' +
        'Press Ctrl-C to stop.\n',
    );
  } catch (error) {
    await stopAll();
    if (stop.signal.aborted) return 0;
    process.stderr.write(`permllm start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const firstExit = Promise.race(children.map((c) => c.exited.then((code) => ({ role: c.role, code }))));
  const outcome = await Promise.race([stop.stopped.then((why) => ({ why })), firstExit]);
  if ('why' in outcome) {
    process.stderr.write(`permllm start: stopping (${outcome.why})\n`);
    await stopAll();
    exitSoon(0);
    return 0;
  }
  process.stderr.write(`permllm start: the ${outcome.role} exited (code ${outcome.code}); stopping the others\n`);
  await stopAll();
  exitSoon(1);
  return 1;
}
