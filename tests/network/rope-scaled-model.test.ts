/**
 * A RoPE-scaled model over real sockets (engine, dealer and the gateway's RemoteBackend in this
 * process, 127.0.0.1): the scaling reaches the gateway through the model card, so the private
 * tokens and their log-probabilities equal the oracle's (ring64, the engine's default: the
 * fixed-point plaintext of the card's plan). The checkpoint has Llama's
 * layout with a llama3 rope_scaling block whose original length is scaled down to 16, so the
 * scaling changes every position's rotation within the run (a gateway on plain RoPE would not
 * match: see tests/protocol/private-model-families.test.ts).
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
import { buildCheckpoint, llamaWithRope, writeCheckpoint } from '../helpers/hf-family-checkpoints.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from '../helpers/trust-options.js';

const quiet = () => undefined;
let dir: string;
let model: ModelDescription;
let dealer: DealerServer;
let engine: EngineServer;
let gateway: RemoteBackend;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-rope-net-'));
  const config = { ...llamaWithRope({ rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 }), vocab_size: 32000, bos_token_id: 31744, eos_token_id: 31745 };
  const folder = await writeCheckpoint(path.join(dir, 'llama3-rope'), buildCheckpoint(config, 'rope-net'));
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

describe('a llama3-scaled model served over the network', () => {
  it('publishes the scaling in the card, and the private greedy tokens and log-probabilities equal the oracle', async () => {
    expect(engine.card.config.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 });
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
    console.log(`llama3-scaled over the network (ring64): ${count} tokens ${JSON.stringify(model.tokenizer.decode(tokens))}; max |private − fixed-point oracle| log-probability ${worst.toExponential(2)} (float plaintext ${worstFloat.toExponential(2)})`);
    expect(tokens).toEqual(plainTokens);
    // The logits are the fixed-point oracle's bit for bit; only the log-sum-exp's summation order
    // (the user's permuted view) differs.
    expect(worst).toBeLessThan(1e-12);
  }, 120_000);
});
