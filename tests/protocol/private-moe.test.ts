/**
 * Private mixture of experts under ring64 (protocol/schedule/ring-moe-ffn.ts): every expert on
 * every token, gate vector from a router Elem permuted over the experts, Beaver combination.
 * On Mixtral's real config layout (8 experts, 2 per token) and on a Mixtral-layout checkpoint
 * with Qwen3-MoE's router shape (16 experts, 4 per token, softmax then top-k, norm_topk_prob on
 * and off; the real Qwen3-MoE also needs Qwen3's q/k norm, which is not part of this step):
 * private == fixed-point oracle bit for bit, and the oracle's greedy text == the float oracle's.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { writeSyntheticModel } from '../../model/synthetic/index.js';
import { PERMLLM_PROFILE, RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { UnsupportedPrivateModelError } from '../../protocol/model/private-steps.js';
import { PREFILL_CHUNK_ROWS } from '../../protocol/schedule/forward-program.js';
import { buildCheckpoint, MIXTRAL_CONFIG, writeCheckpoint, type HfConfig } from '../helpers/hf-family-checkpoints.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { argmax } from '../../sampling/index.js';
import { fixedPointGenerate, pairModel, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';
import { scratchDir, stories260KDir } from '../models/model-dirs.js';

const TOKENS = 8;
let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('private-moe');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const load = async (name: string, config: HfConfig) => loadHuggingFaceModel(await writeCheckpoint(path.join(work, name), buildCheckpoint(config, name)), { tokenizer });

/** Qwen3-30B-A3B's router shape (128 experts / 8 per token → 16 / 4, moe_intermediate_size 48) on Mixtral's tensor layout. */
const QWEN3_MOE_ROUTER_SHAPE: HfConfig = { ...MIXTRAL_CONFIG, num_local_experts: 16, num_experts_per_tok: 4, intermediate_size: 48 };

function withNormalizeTopK(model: ModelDescription, normalizeTopK: boolean): ModelDescription {
  const moe = model.config.variant!.moe!;
  return { ...model, config: { ...model.config, variant: { ...model.config.variant, moe: { ...moe, normalizeTopK } } } };
}

/** Float greedy generation, with each step's smallest router margin (k-th minus (k+1)-th logit over every token and layer of that pass). */
async function floatWithRouterMargins(model: ModelDescription, prompt: readonly number[], count: number): Promise<{ tokens: number[]; logits: Float32Array[]; margins: number[] }> {
  const { nExperts: n, topK } = model.config.variant!.moe!;
  let margin = Infinity;
  const observe = (family: string, v: Float32Array | Float64Array) => {
    if (family !== 'router') return;
    for (let r = 0; r < v.length / n; r++) {
      const row = Array.from(v.subarray(r * n, (r + 1) * n)).sort((a, b) => b - a);
      margin = Math.min(margin, row[topK - 1]! - row[topK]!);
    }
  };
  const seq = new PlaintextModel(model, { observe }).newSequence();
  const tokens: number[] = [];
  const logits: Float32Array[] = [];
  const margins: number[] = [];
  let current = await seq.prefill(prompt);
  for (let i = 0; i < count; i++) {
    logits.push(current);
    margins.push(margin);
    tokens.push(argmax(current));
    margin = Infinity;
    if (i + 1 < count) current = await seq.decode(tokens[i]!);
  }
  return { tokens, logits, margins };
}

describe('private mixture of experts (ring64)', () => {
  it.each([
    ['mixtral 8 experts, top-2, renormalised', MIXTRAL_CONFIG, true],
    ['qwen3-moe router shape 16 experts, top-4, norm_topk_prob', QWEN3_MOE_ROUTER_SHAPE, true],
    ['qwen3-moe router shape 16 experts, top-4, no renormalisation', QWEN3_MOE_ROUTER_SHAPE, false],
  ] as const)('%s: private == fixed-point oracle bit for bit, greedy text == float oracle', async (name, config, normalizeTopK) => {
    const model = withNormalizeTopK(await load(name.replace(/\W+/g, '_'), config), normalizeTopK);
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    const parties = await pairModel(model, RING64_PROFILE);
    const t0 = performance.now();
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const privateMs = performance.now() - t0;
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const plain = await floatWithRouterMargins(model, prompt, TOKENS);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    // Top-k routing is discontinuous: where the k-th and (k+1)-th router logits of some token lie
    // within the fixed-point noise, the two oracles may pick different experts for it and the
    // logits jump. The bound is checked on the steps where every token's margin exceeds 2e-3 (measured in these runs: the steps with margins from 3.7e-3 up agree within the bound; a margin of 5.4e-4 flipped an expert).
    let maxErr = 0;
    let maxLogit = 0;
    const nearTies: string[] = [];
    oracle.logits.forEach((l, i) => {
      let err = 0;
      l.forEach((v, j) => {
        err = Math.max(err, Math.abs(v - plain.logits[i]![j]!));
        maxLogit = Math.max(maxLogit, Math.abs(plain.logits[i]![j]!));
      });
      if (plain.margins[i]! > 2e-3) maxErr = Math.max(maxErr, err);
      else nearTies.push(`step ${i}: router margin ${plain.margins[i]!.toExponential(1)}, logit error ${err.toFixed(4)}`);
    });
    console.log(`${name}: ${TOKENS} tokens ${JSON.stringify(tokenizer.decode(priv.tokens))}, fixed-point vs float max logit error ${maxErr.toFixed(4)} (${(maxErr / maxLogit).toExponential(2)} of the largest) off near-ties [${nearTies.join('; ')}], private ${privateMs.toFixed(0)} ms`);
    expect(nearTies.length).toBeLessThan(TOKENS / 2);
    expect(maxErr / maxLogit).toBeLessThan(1.5e-2);
  });

  it('the `permllm synthesize` preset mixtral-like-tiny (bf16, its 32k tokenizer), a prompt over two prefill chunks: private == fixed-point oracle, greedy text == float oracle', async () => {
    const dir = path.join(work, 'preset');
    await writeSyntheticModel(dir, 'mixtral-like-tiny', 5);
    const model = await loadHuggingFaceModel(dir);
    const prompt = model.tokenizer.encode('Once upon a time, there was a little girl named Lily. She lived in a small house by the sea with her mother, her father and a cat called Tom, and every morning she walked to the library.', { addBos: true });
    expect(prompt.length).toBeGreaterThan(PREFILL_CHUNK_ROWS);
    const parties = await pairModel(model, RING64_PROFILE);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const plain = await floatWithRouterMargins(model, prompt, TOKENS);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    console.log(`mixtral-like-tiny preset, ${prompt.length}-token prompt: ${JSON.stringify(model.tokenizer.decode(priv.tokens))}; ${priv.stats.flightsPerLayer} flights per layer, ${priv.stats.perToken.bytesToEngine} B per token to the engine`);
  });

  it('the `permllm synthesize` preset qwen3-moe-like-tiny (Qwen3\'s q/k norm and its MoE together, its real tokenizer): private == fixed-point oracle, greedy text == float oracle', async () => {
    const dir = path.join(work, 'preset-qwen3-moe');
    await writeSyntheticModel(dir, 'qwen3-moe-like-tiny', 5);
    const model = await loadHuggingFaceModel(dir);
    expect(model.config.variant?.qkNorm && model.config.variant.moe).toBeTruthy();
    const prompt = model.tokenizer.encode('Once upon a time, there was a little girl named Lily.', { addBos: true });
    const parties = await pairModel(model, RING64_PROFILE);
    const priv = await privateGenerateInProcess(parties, prompt, 6);
    const oracle = await fixedPointGenerate(parties, prompt, 6);
    const plain = await floatWithRouterMargins(model, prompt, 6);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    console.log(`qwen3-moe-like-tiny preset: ${JSON.stringify(model.tokenizer.decode(priv.tokens))}; ${priv.stats.flightsPerLayer} flights per layer, ${priv.stats.perToken.bytesToEngine} B per token to the engine`);
  });

  it('stays refused under permllm-f64, naming the profile', async () => {
    const model = await load('f64_mixtral', MIXTRAL_CONFIG);
    await expect(pairModel(model, PERMLLM_PROFILE)).rejects.toThrow(UnsupportedPrivateModelError);
    await expect(pairModel(model, PERMLLM_PROFILE)).rejects.toThrow(/mixture-of-experts routing .* under this profile \(it runs under ring64/);
  });
});
