/**
 * A mixture-of-experts model (Mixtral's config layout, 8 experts, 2 per token) over real sockets
 * (engine, dealer and the gateway's RemoteBackend in this process, 127.0.0.1), under ring64 (the
 * engine's default): the card carries the experts' shape (config.variant.moe) and their plan, the
 * dealer derives every expert's mask from the pairing request, and the private greedy tokens and
 * log-probabilities equal the fixed-point oracle's (which evaluates the same MoE).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { syntheticTokenizerFiles } from '../../model/synthetic/index.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { logprobOf } from '../../sampling/index.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { buildCheckpoint, MIXTRAL_CONFIG, writeCheckpoint } from '../helpers/hf-family-checkpoints.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
let dir: string;
let model: ModelDescription;
let dealer: DealerServer;
let engine: EngineServer;
let gateway: RemoteBackend;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-moe-net-'));
  const config = { ...MIXTRAL_CONFIG, vocab_size: 32000, bos_token_id: 31744, eos_token_id: 31745 };
  const folder = await writeCheckpoint(path.join(dir, 'mixtral'), buildCheckpoint(config, 'moe-net'));
  const files = await syntheticTokenizerFiles('llama3-32k');
  await writeFile(path.join(folder, 'tokenizer.json'), files.tokenizerJson);
  await writeFile(path.join(folder, 'tokenizer_config.json'), files.tokenizerConfigJson);
  model = await loadHuggingFaceModel(folder);
  const trust = await prepareLocalTrust(path.join(dir, 'state'));
  dealer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
  engine = await startEngineServer({ model, profile: RING64_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', port: 0, ...engineTrustOptions(trust), log: quiet });
  gateway = await RemoteBackend.connect({ engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, 'cache'), ...gatewayTrustOptions(trust), log: quiet, progress: () => ({ update: quiet, finish: quiet }) });
}, 120_000);

afterAll(async () => {
  await gateway?.close?.();
  await engine?.close();
  await dealer?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a mixture-of-experts model served over the network', () => {
  it('publishes the experts in the card, and the private greedy tokens and log-probabilities equal the oracle', async () => {
    expect(engine.card.config.variant).toEqual({ moe: { nExperts: 8, topK: 2, normalizeTopK: true } });
    expect(engine.card.fixedPoint!.weights.filter((w) => w.name.startsWith('layers.0.experts.'))).toHaveLength(8);
    const prompt = model.tokenizer.encode('Once upon a time, there was a little girl named Lily', { addBos: true });
    const count = 10;
    const tokens: number[] = [];
    const logprobs: number[] = [];
    const controller = new AbortController();
    for await (const event of gateway.generate({ promptTokens: prompt, maxTokens: count, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, topLogprobs: 0, signal: controller.signal })) {
      if (event.type === 'token') {
        tokens.push(event.id);
        logprobs.push(event.logprob!);
      }
    }
    // The engine runs ring64 (the default): its oracle is the fixed-point plaintext of the same plan.
    const fixedPoint = await fixedPointModelOf(model);
    expect(engine.card.fixedPoint!.plan).toEqual(fixedPoint.plan);
    const seq = new FixedPointModel(model.config, fixedPoint.plan, fixedPoint.weights).newSequence();
    let logits = seq.decodeLogits(await seq.prefill(prompt));
    const floatSeq = new PlaintextModel(model).newSequence();
    let floatLogits = await floatSeq.prefill(prompt);
    let worstFloat = 0;
    const plainTokens: number[] = [];
    let worst = 0;
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
      plainTokens.push(best);
      let max = -Infinity;
      for (const v of logits) max = Math.max(max, v);
      let sum = 0;
      for (const v of logits) sum += Math.exp(v - max);
      const plainLogprob = logits[best]! - max - Math.log(sum);
      if (tokens[i] === best) worst = Math.max(worst, Math.abs(logprobs[i]! - plainLogprob));
      worstFloat = Math.max(worstFloat, Math.abs(logprobs[i]! - logprobOf(floatLogits, best)));
      if (i + 1 < count) {
        logits = seq.decodeLogits(await seq.decode(best));
        floatLogits = await floatSeq.decode(best);
      }
    }
    console.log(`Mixtral layout over the network (ring64): ${count} tokens ${JSON.stringify(model.tokenizer.decode(tokens))}; max |private − fixed-point oracle| log-probability ${worst.toExponential(2)} (float plaintext ${worstFloat.toExponential(2)})`);
    expect(tokens).toEqual(plainTokens);
    // The logits are the fixed-point oracle's bit for bit; only the log-sum-exp's summation order
    // (the user's permuted view) differs.
    expect(worst).toBeLessThan(1e-12);
  }, 120_000);
});
