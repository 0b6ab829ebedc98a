/**
 * A synthetic Hugging Face checkpoint served over real sockets (engine, dealer and the gateway's
 * RemoteBackend in this process, 127.0.0.1) under ring64, the engine's default, and the
 * comparison every such test makes: the private greedy tokens and log-probabilities against the
 * fixed-point oracle of the card's plan (and, for the record, the float plaintext).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDealerServer, type DealerServer } from '../../dealer/server/dealer-server.js';
import { startEngineServer, type EngineServer } from '../../engine/server/engine-server.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { syntheticTokenizerFiles } from '../../model/synthetic/index.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import type { FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { logprobOf } from '../../sampling/index.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { buildCheckpoint, writeCheckpoint, type HfConfig } from './hf-family-checkpoints.js';
import { dealerTrustOptions, engineTrustOptions, gatewayTrustOptions } from './trust-options.js';

const quiet = () => undefined;

export interface NetworkedModel {
  model: ModelDescription;
  dealer: DealerServer;
  engine: EngineServer;
  gateway: RemoteBackend;
  close(): Promise<void>;
}

/** Writes `config` (with the derived 32k Llama 3 tokenizer) as a seeded checkpoint and serves it. */
export async function serveSyntheticCheckpoint(name: string, config: HfConfig, seed: string): Promise<NetworkedModel> {
  const dir = await mkdtemp(path.join(tmpdir(), `permllm-${name}-net-`));
  const folder = await writeCheckpoint(path.join(dir, name), buildCheckpoint({ ...config, vocab_size: 32000, bos_token_id: 31744, eos_token_id: 31745 }, seed));
  const files = await syntheticTokenizerFiles('llama3-32k');
  await writeFile(path.join(folder, 'tokenizer.json'), files.tokenizerJson);
  await writeFile(path.join(folder, 'tokenizer_config.json'), files.tokenizerConfigJson);
  const model = await loadHuggingFaceModel(folder);
  const trust = await prepareLocalTrust(path.join(dir, 'state'));
  const dealer = await startDealerServer({ host: '127.0.0.1', port: 0, ...dealerTrustOptions(trust), log: quiet });
  const engine = await startEngineServer({ model, profile: RING64_PROFILE, dealerUrl: dealer.url, host: '127.0.0.1', port: 0, ...engineTrustOptions(trust), log: quiet });
  const gateway = await RemoteBackend.connect({ engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, 'cache'), ...gatewayTrustOptions(trust), log: quiet, progress: () => ({ update: quiet, finish: quiet }) });
  return {
    model,
    dealer,
    engine,
    gateway,
    close: async () => {
      await gateway.close();
      await engine.close();
      await dealer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface OracleComparison {
  /** The private greedy tokens, and the fixed-point oracle's. */
  tokens: number[];
  oracleTokens: number[];
  /** Largest |private − oracle| log-probability over the steps where both chose the same token. */
  worst: number;
  /** The same against the float plaintext (reported, not bounded). */
  worstFloat: number;
  /** The plan the oracle calibrated (it must equal the card's). */
  oraclePlan: FixedPointPlan;
}

/** `count` greedy tokens through the gateway from `prompt`, beside the fixed-point oracle's. */
export async function greedyAgainstOracle(served: NetworkedModel, prompt: readonly number[], count: number): Promise<OracleComparison> {
  const { model, gateway } = served;
  const tokens: number[] = [];
  const logprobs: number[] = [];
  const controller = new AbortController();
  for await (const event of gateway.generate({ promptTokens: [...prompt], maxTokens: count, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, topLogprobs: 0, signal: controller.signal })) {
    if (event.type === 'token') {
      tokens.push(event.id);
      logprobs.push(event.logprob!);
    }
  }
  const fixedPoint = await fixedPointModelOf(model);
  const seq = new FixedPointModel(model.config, fixedPoint.plan, fixedPoint.weights).newSequence();
  let logits = seq.decodeLogits(await seq.prefill(prompt));
  const floatSeq = new PlaintextModel(model).newSequence();
  let floatLogits = await floatSeq.prefill(prompt);
  const oracleTokens: number[] = [];
  let worst = 0;
  let worstFloat = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    oracleTokens.push(best);
    if (tokens[i] === best) worst = Math.max(worst, Math.abs(logprobs[i]! - logprobOf(logits, best)));
    worstFloat = Math.max(worstFloat, Math.abs(logprobs[i]! - logprobOf(floatLogits, best)));
    if (i + 1 < count) {
      logits = seq.decodeLogits(await seq.decode(best));
      floatLogits = await floatSeq.decode(best);
    }
  }
  return { tokens, oracleTokens, worst, worstFloat, oraclePlan: fixedPoint.plan };
}
