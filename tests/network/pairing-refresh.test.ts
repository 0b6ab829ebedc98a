/**
 * A new pairing at the engine (its state folder was reset, so a new pairing key and a new X − U)
 * seen by a running gateway: sessions with the old masked model are refused before they start
 * (409, stale pairing), the gateway fetches the new masked model by itself, and serves again
 * with the same text. Engine, dealer and gateway run in this process on real sockets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../model/load-model.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import type { GenerationRequest } from '../../gateway/pipeline/generation-backend.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, waitFor } from '../helpers/processes.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
let dir: string;
let dealer: DealerServer | undefined;
let engine: EngineServer | undefined;
let backend: RemoteBackend | undefined;

afterAll(async () => {
  await backend?.close();
  await engine?.close();
  await dealer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function greedy(b: RemoteBackend, tokens: number): Promise<number[]> {
  const request: GenerationRequest = {
    promptTokens: b.modelInfo.tokenizer.encode('Once upon a time', { addBos: true }),
    maxTokens: tokens,
    sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 },
    adjustments: {},
    signal: new AbortController().signal,
  };
  const ids: number[] = [];
  for await (const event of b.generate(request)) if (event.type === 'token') ids.push(event.id);
  return ids;
}

describe('pairing refresh', () => {
  it('a gateway notices a new engine pairing, downloads the new masked model and serves again', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'permllm-refresh-'));
    const model = await loadModel(defaultModelDir);
    const trust = await prepareLocalTrust(path.join(dir, 'state'));
    dealer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
    const engineOptions = { model, profile: RING64_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', ...engineTrustOptions(trust), log: quiet, probeIntervalMs: 200 };
    engine = await startEngineServer({ ...engineOptions, port: 0 });
    const port = engine.port;
    await waitFor('the engine to be ready', async () => (engine!.readiness().ready ? true : undefined));
    const logs: string[] = [];
    backend = await RemoteBackend.connect({ engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, 'cache'), ...gatewayTrustOptions(trust), probeIntervalMs: 200, log: (l) => logs.push(l), progress: () => ({ update: quiet, finish: quiet }) });
    const firstPairing = backend.card.pairing.id;
    const before = await greedy(backend, 6);

    // The same engine identity on the same port, its pairing keys deleted: a new pairing key.
    await engine.close();
    await rm(path.join(trust.dirs.engine, 'pairings'), { recursive: true, force: true });
    engine = await startEngineServer({ ...engineOptions, port });
    expect(engine.card.pairing.id).not.toBe(firstPairing);
    await waitFor('the gateway to serve the new pairing', async () => (backend!.card.pairing.id === engine!.card.pairing.id && backend!.readiness().ready ? true : undefined));
    expect(logs.some((l) => l.includes('pairing changed'))).toBe(true);
    expect(await greedy(backend, 6)).toEqual(before);
  });
});
