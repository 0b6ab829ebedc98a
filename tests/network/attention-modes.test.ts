/**
 * The card's attention modes are honoured over real sockets (engine, dealer and the gateway's
 * RemoteBackend in this process, 127.0.0.1, stories260K, ring64):
 * - an engine started with the default publishes attentionModes ['beaver']; a gateway that asks
 *   for single-view anyway is refused (the engine ends the session), and the default gateway
 *   runs the beaver schedule (10 flights per layer with the deferred FFN norm: 10·L + 6 per token);
 * - an engine whose operator allows single-view publishes it, and a default gateway then picks
 *   it (the fastest allowed): 4·L + 6 flights per token, tokens equal to the single-view oracle's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import type { GenerationEvent } from '../../gateway/pipeline/generation-backend.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { SingleViewSequence } from '../../plaintext/fixed-point/single-view-model.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import type { AttentionMode } from '../../protocol/schedule/attention-mode.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { argmax } from '../../sampling/index.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
const GREEDY = { temperature: 0, topP: 1, topK: 0, minP: 0 };
let dir: string;
let model: ModelDescription;
const closers: (() => Promise<unknown>)[] = [];

interface System {
  engine: EngineServer;
  gateway(attention?: AttentionMode): Promise<RemoteBackend>;
}

async function system(name: string, attentionModes?: readonly AttentionMode[]): Promise<System> {
  const trust = await prepareLocalTrust(path.join(dir, name, 'state'));
  const dealer: DealerServer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
  closers.push(() => dealer.close());
  const engine = await startEngineServer({ model, profile: RING64_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', port: 0, ...engineTrustOptions(trust), log: quiet, ...(attentionModes ? { attentionModes } : {}) });
  closers.unshift(() => engine.close());
  let n = 0;
  return {
    engine,
    async gateway(attention) {
      const g = await RemoteBackend.connect({ engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, name, `cache-${n++}`), ...gatewayTrustOptions(trust), log: quiet, progress: () => ({ update: quiet, finish: quiet }), ...(attention ? { attention } : {}) });
      closers.unshift(async () => g.close?.());
      return g;
    },
  };
}

async function generate(gateway: RemoteBackend, prompt: readonly number[], count: number): Promise<{ tokens: number[]; finish: Extract<GenerationEvent, { type: 'finish' }> | undefined }> {
  const tokens: number[] = [];
  let finish: Extract<GenerationEvent, { type: 'finish' }> | undefined;
  for await (const event of gateway.generate({ promptTokens: [...prompt], maxTokens: count, sampling: GREEDY, adjustments: {}, signal: new AbortController().signal })) {
    if (event.type === 'token') tokens.push(event.id);
    else finish = event;
  }
  return { tokens, finish };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-attention-modes-'));
  model = await loadModel(defaultModelPath());
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('attention modes over the network', () => {
  it('a default engine allows only beaver and refuses a gateway that asks for single-view', async () => {
    const s = await system('default');
    expect(s.engine.card.attentionModes).toEqual(['beaver']);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const asking = await s.gateway('single-view');
    await expect(generate(asking, prompt, 3)).rejects.toThrow();
    const plain = await s.gateway();
    const run = await generate(plain, prompt, 3);
    expect(run.tokens).toHaveLength(3);
    expect(run.finish?.stats?.flightsPerToken).toBe(8 * model.config.nLayers + 6); // the paper schedule with the deferred FFN norm and the fused P·V
  }, 120_000);

  it('an engine allowing single-view publishes it and a default gateway runs it, equal to its oracle', async () => {
    const s = await system('single-view', ['beaver', 'single-view']);
    expect(s.engine.card.attentionModes).toEqual(['beaver', 'single-view']);
    const gateway = await s.gateway();
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const count = 6;
    const run = await generate(gateway, prompt, count);
    expect(run.finish?.stats?.flightsPerToken).toBe(4 * model.config.nLayers + 6);
    const fixedPoint = await fixedPointModelOf(model);
    const seq = new SingleViewSequence(new FixedPointModel(model.config, fixedPoint.plan, fixedPoint.weights));
    const oracle: number[] = [];
    let logits = seq.decodeLogits(await seq.prefill(prompt));
    for (let i = 0; i < count; i++) {
      oracle.push(argmax(logits));
      if (i + 1 < count) logits = seq.decodeLogits(await seq.decode(oracle[i]!));
    }
    expect(run.tokens).toEqual(oracle);
  }, 120_000);
});
