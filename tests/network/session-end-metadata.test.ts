/**
 * Issue 11's end-of-session metadata with real sockets (engine, dealer and the gateway's
 * RemoteBackend in this process): a stop-string end is a completed session for the engine,
 * exactly as a max_tokens or end-of-sequence end (before, the gateway cancelled it and the
 * engine counted a cancellation), while a client that goes away is still a cancellation (so
 * the engine's count does tell the two apart: the check has power). And a gateway with length
 * buckets makes the engine run a multiple of the bucket in passes, with the same text.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import { runChoice } from '../../gateway/api/choice-runner.js';
import type { GenerationRequest } from '../../gateway/pipeline/generation-backend.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { loadModel } from '../../model/load-model.js';
import { PERMLLM_PROFILE } from '../../protocol/masks/mask-profile.js';
import { prepareLocalTrust, type LocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, waitFor } from '../helpers/processes.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
let dir: string;
let dealer: DealerServer;
let engine: EngineServer;
let plain: RemoteBackend;
let bucketed: RemoteBackend;
let trust: LocalTrust;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-metadata-'));
  const model = await loadModel(defaultModelDir);
  trust = await prepareLocalTrust(path.join(dir, 'state'));
  dealer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
  engine = await startEngineServer({ model, profile: PERMLLM_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', ...engineTrustOptions(trust), log: quiet, probeIntervalMs: 200, port: 0 });
  await waitFor('the engine to be ready', async () => (engine.readiness().ready ? true : undefined));
  const options = { engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, 'cache'), ...gatewayTrustOptions(trust), probeIntervalMs: 200, log: quiet, progress: () => ({ update: quiet, finish: quiet }) };
  plain = await RemoteBackend.connect(options);
  bucketed = await RemoteBackend.connect({ ...options, lengthBucket: 8 });
}, 120_000);

afterAll(async () => {
  await plain?.close();
  await bucketed?.close();
  await engine?.close();
  await dealer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The engine's session and pass counters. */
async function engineCounts(): Promise<{ completed: number; cancelled: number; passes: number }> {
  const text = await (await fetch(`${engine.url}/metrics`, { headers: { authorization: `Bearer ${trust.operator.engine}` } })).text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    completed: read(/permllm_engine_sessions_total\{outcome="completed"\} (\d+)/),
    cancelled: read(/permllm_engine_sessions_total\{outcome="cancelled"\} (\d+)/),
    passes: read(/permllm_engine_tokens_total (\d+)/),
  };
}

function request(backend: RemoteBackend, maxTokens: number): Omit<GenerationRequest, 'signal'> {
  return {
    promptTokens: backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }),
    maxTokens,
    sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 },
    adjustments: {},
  };
}

async function generate(backend: RemoteBackend, maxTokens: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const event of backend.generate({ ...request(backend, maxTokens), signal: new AbortController().signal })) if (event.type === 'token') ids.push(event.id);
  return ids;
}

/** Runs one choice through the API layer's runner (stop strings, abort); returns its text. */
async function choice(backend: RemoteBackend, maxTokens: number, stops: string[], signal = new AbortController().signal): Promise<{ text: string; reason?: string }> {
  let text = '';
  let reason: string | undefined;
  for await (const update of runChoice({ backend, tokenizer: backend.modelInfo.tokenizer, index: 0, request: request(backend, maxTokens), stops, signal, firstTokenTimeoutMs: 60_000, idleTimeoutMs: 60_000 })) {
    if (update.type === 'text') text += update.text;
    else reason = update.reason;
  }
  return { text, ...(reason ? { reason } : {}) };
}

describe('what the engine learns of how a session ended (real sockets)', () => {
  it('a stop string is a completed session, a client going away a cancelled one', async () => {
    const full = await choice(plain, 10, []);
    const words = full.text.trim().split(/\s+/);
    expect(words.length).toBeGreaterThan(3);
    const stop = ` ${words[2]}`;
    const start = await engineCounts();
    const stopped = await choice(plain, 10, [stop]);
    expect(stopped.reason).toBe('stop');
    expect(full.text.startsWith(stopped.text)).toBe(true);
    await waitFor('the engine to count the session', async () => ((await engineCounts()).completed > start.completed ? true : undefined), 80, 100);
    const afterStop = await engineCounts();
    expect(afterStop.completed - start.completed).toBe(1);
    expect(afterStop.cancelled - start.cancelled).toBe(0);

    // The control: the same session cut by an abort (client gone) is counted as cancelled.
    const gone = new AbortController();
    const cut = choice(plain, 200, [], gone.signal);
    setTimeout(() => gone.abort(), 1500);
    await expect(cut).rejects.toThrow();
    await waitFor('the engine to count the cancellation', async () => ((await engineCounts()).cancelled > afterStop.cancelled ? true : undefined), 80, 100);
    expect((await engineCounts()).completed).toBe(afterStop.completed);
  });

  it('length buckets: the engine runs a multiple of the bucket in passes; the text is the same', async () => {
    const reference = await generate(plain, 3);
    const before = await engineCounts();
    expect(await generate(bucketed, 3)).toEqual(reference);
    await waitFor('the engine to count the session', async () => ((await engineCounts()).completed > before.completed ? true : undefined), 80, 100);
    const passes = (await engineCounts()).passes - before.passes;
    // "Once upon a time" is 5 tokens with BOS: prefill of 1, 4 forced, 3 generated = 8 passes.
    expect(passes % 8).toBe(0);
    expect(passes).toBe(8);
  });
});
