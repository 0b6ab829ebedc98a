/**
 * The families people run, loaded from their real Hugging Face layouts (config.json field names
 * and values of each family, scaled-down seeded weights; tests/helpers/hf-family-checkpoints.ts)
 * and run by the plaintext oracle, against an independent float64 reference written from the HF
 * modeling math (tests/helpers/reference-forward.ts): logits of every position within
 * LOGITS_TOLERANCE of the reference (relative to max |logit|), and the same greedy text.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { argmax } from '../../sampling/index.js';
import {
  buildCheckpoint,
  GEMMA2_CONFIG,
  GEMMA3_CONFIG,
  GPT_OSS_CONFIG,
  LLAMA32_CONFIG,
  llamaWithRope,
  MIXTRAL_CONFIG,
  PHI35_CONFIG,
  PHI3_CONFIG,
  PHI4_MINI_CONFIG,
  QWEN3_CONFIG,
  QWEN3_MOE_CONFIG,
  packExpertsAsMxfp4,
  writeCheckpoint,
  type HfCheckpoint,
  TEST_VOCAB,
  type HfConfig,
} from '../helpers/hf-family-checkpoints.js';
import { referenceGreedy, referenceLogits } from '../helpers/reference-forward.js';
import { scratchDir, stories260KDir } from './model-dirs.js';

/**
 * float32 oracle vs float64 reference, max |difference| / max |reference logit| over all
 * positions. Measured between 1e-7 and 1e-6 (the oracle's float32 rounding); 1e-5 leaves a margin.
 */
const LOGITS_TOLERANCE = 1e-5;
// 14 tokens with BOS: past the scaled-down windows (8) and YaRN's original length for gpt-oss (16) once greedy runs on.
const PROMPT = 'Once upon a time, there was a little girl named';
// (With greedy tokens the Phi-3.5 / Phi-4 sequences pass their scaled-down original length 16, where longrope switches factors.)
const GREEDY_TOKENS = 10;

let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('model-families');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function load(name: string, config: HfConfig, mxfp4 = false): Promise<{ ck: HfCheckpoint; model: ModelDescription }> {
  const ck = mxfp4 ? packExpertsAsMxfp4(buildCheckpoint(config, name), name) : buildCheckpoint(config, name);
  const dir = await writeCheckpoint(path.join(work, name), ck);
  return { ck, model: await loadHuggingFaceModel(dir, { tokenizer }) };
}

function relativeError(actual: Float32Array, expected: Float64Array[], vocab: number): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((row, t) => {
    for (let j = 0; j < vocab; j++) {
      diff = Math.max(diff, Math.abs(actual[t * vocab + j]! - row[j]!));
      scale = Math.max(scale, Math.abs(row[j]!));
    }
  });
  return diff / scale;
}

async function oracleGreedy(model: ModelDescription, prompt: readonly number[], count: number): Promise<number[]> {
  const seq = new PlaintextModel(model).newSequence();
  let logits = await seq.prefill(prompt);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = argmax(logits);
    out.push(id);
    if (i + 1 < count) logits = await seq.decode(id);
  }
  return out;
}

const FAMILIES: Array<[string, HfConfig, Partial<ModelDescription['config']>, boolean?]> = [
  ['llama-3.2 (rope_scaling llama3)', LLAMA32_CONFIG, { architecture: 'llama', ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } }],
  ['qwen3', QWEN3_CONFIG, { architecture: 'qwen3', headDim: 32, variant: { qkNorm: true } }],
  ['phi-3', PHI3_CONFIG, { architecture: 'phi3', maxSeqLen: 2047 }],
  ['phi-3.5 (longrope)', PHI35_CONFIG, { architecture: 'phi3', maxSeqLen: 64, ropeScaling: { type: 'longrope', shortFactor: [1.0, 1.02, 1.05, 1.1, 1.2, 1.4, 1.7, 2.0], longFactor: [1.0, 1.3, 2.0, 3.5, 6.0, 10.0, 18.0, 30.0], originalMaxPositions: 16, attentionFactor: Math.sqrt(1 + Math.log(4) / Math.log(16)) } }],
  ['phi-4-mini (partial rotary 0.75, longrope)', PHI4_MINI_CONFIG, { architecture: 'phi3', rotaryDim: 12, tiedEmbeddings: true }],
  ['gemma-2', GEMMA2_CONFIG, { architecture: 'gemma2', tiedEmbeddings: true }],
  ['gemma-3', GEMMA3_CONFIG, { architecture: 'gemma3', nKvHeads: 1 }],
  // Gemma 3 4B+'s text config scales the global layers' RoPE by 8 (linear); the local layers keep θ 10000 unscaled.
  ['gemma-3 (global rope_scaling linear 8)', { ...GEMMA3_CONFIG, rope_scaling: { factor: 8.0, rope_type: 'linear' } }, { architecture: 'gemma3', ropeScaling: { type: 'linear', factor: 8 } }],
  ['mixtral', MIXTRAL_CONFIG, { architecture: 'mixtral', hiddenDim: 96, variant: { moe: { nExperts: 8, topK: 2, normalizeTopK: true } } }],
  ['qwen3-moe', QWEN3_MOE_CONFIG, { architecture: 'qwen3-moe', hiddenDim: 48, variant: { qkNorm: true, moe: { nExperts: 16, topK: 4, normalizeTopK: true } } }],
  ['gpt-oss (bf16-form experts)', GPT_OSS_CONFIG, { architecture: 'gpt-oss', ropeScaling: { type: 'yarn', factor: 32, originalMaxPositions: 16, betaFast: 32, betaSlow: 1, attentionFactor: 0.1 * Math.log(32) + 1, truncate: false } }],
  ['gpt-oss (MXFP4 experts)', GPT_OSS_CONFIG, { architecture: 'gpt-oss', variant: { attentionSinks: true, outputBias: true, activation: 'clamped-swiglu', swigluLimit: 7, layerWindows: [8, null, 8, null], moe: { nExperts: 8, topK: 2, normalizeTopK: true, biases: true } } }, true],
];

describe.each(FAMILIES)('%s from its Hugging Face layout', (name, config, expectedConfig, mxfp4) => {
  it('loads, and the oracle matches the independent reference: logits and greedy text', async () => {
    const { ck, model } = await load(name.replace(/[^a-z0-9.-]+/gi, '_'), config, mxfp4);
    expect(model.config).toMatchObject(expectedConfig);
    if (name.startsWith('phi') || name.startsWith('llama')) expect(model.config.variant).toBeUndefined(); // plain Llama math: privately servable
    const prompt = tokenizer.encode(PROMPT, { addBos: true });
    const expected = referenceLogits(ck, prompt);
    const actual = await new PlaintextModel(model).forwardAll(prompt);
    const err = relativeError(actual, expected, model.config.vocabSize);
    const plainGreedy = await oracleGreedy(model, prompt, GREEDY_TOKENS);
    const refGreedy = referenceGreedy(ck, prompt, GREEDY_TOKENS);
    console.log(`${name}: ${prompt.length} positions, max |oracle − reference| / max |logit| = ${err.toExponential(2)}; greedy ${JSON.stringify(tokenizer.decode(plainGreedy))}`);
    expect(err).toBeLessThan(LOGITS_TOLERANCE);
    expect(plainGreedy).toEqual(refGreedy);
    expect(tokenizer.decode(plainGreedy)).toBe(tokenizer.decode(refGreedy));
  });
});

describe('RoPE scalings (Llama layout, scaled-down original lengths so scaling acts within the prompt)', () => {
  const SCALINGS: Array<[string, HfConfig]> = [
    ['linear', { type: 'linear', factor: 4.0 }],
    ['dynamic', { type: 'dynamic', factor: 2.0 }],
    ['llama3', { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 }],
    ['yarn', { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 }],
    ['longrope', { rope_type: 'longrope', factor: 4.0, original_max_position_embeddings: 16, short_factor: [1.0, 1.05, 1.1, 1.2, 1.4, 1.7, 2.0, 2.5], long_factor: [1.0, 1.5, 2.5, 4.0, 7.0, 12.0, 20.0, 32.0] }],
    ['yarn (gpt-oss: beta 32/1, truncate false)', { rope_type: 'yarn', factor: 32.0, beta_fast: 32.0, beta_slow: 1.0, original_max_position_embeddings: 16, truncate: false }],
  ];
  it.each(SCALINGS)('%s: oracle == reference, and the scaling really changes the logits', async (label, scaling) => {
    const maxPositions = label === 'dynamic' ? 16 : 64;
    const { ck, model } = await load(`rope-${label.replace(/[^a-z0-9]+/gi, '_')}`, llamaWithRope(scaling, maxPositions));
    const plain = await load(`rope-${label.replace(/[^a-z0-9]+/gi, '_')}-none`, llamaWithRope(null, 64));
    // Past the original length for dynamic (context factor × 16 = 32).
    const prompt = [1, ...tokenizer.encode(`${PROMPT} Lily. She loved to play`)].slice(0, 30);
    expect(prompt.length).toBeGreaterThan(16);
    const expected = referenceLogits(ck, prompt);
    const actual = await new PlaintextModel(model).forwardAll(prompt);
    const err = relativeError(actual, expected, model.config.vocabSize);
    const unscaled = relativeError(await new PlaintextModel(plain.model).forwardAll(prompt), expected, model.config.vocabSize);
    console.log(`rope ${label}: max rel error vs reference ${err.toExponential(2)}; the same weights without scaling differ by ${unscaled.toExponential(2)}`);
    expect(err).toBeLessThan(LOGITS_TOLERANCE);
    expect(unscaled).toBeGreaterThan(1e-3);
  });
});

describe('Llama 3.2 RoPE scaling at long range (real values: θ 500000, factor 32, original 8192)', () => {
  it('1,100 positions: the oracle matches the reference at the last positions; ignoring the scaling would move them', async () => {
    const { ck, model } = await load('llama32-long', { ...LLAMA32_CONFIG, torch_dtype: 'float32' });
    const unscaled = { ...model, config: { ...model.config, ropeScaling: undefined } };
    const tokens = Array.from({ length: 1100 }, (_, i) => (i * 7919 + 13) % TEST_VOCAB);
    const expected = referenceLogits(ck, tokens).slice(-4);
    const [all, allUnscaled] = await Promise.all([new PlaintextModel(model).forwardAll(tokens), new PlaintextModel(unscaled).forwardAll(tokens)]);
    const V = model.config.vocabSize;
    const err = relativeError(all.subarray((tokens.length - 4) * V), expected, V);
    const moved = relativeError(allUnscaled.subarray((tokens.length - 4) * V), expected, V);
    console.log(`llama3 scaling at positions 1096..1099: oracle vs reference ${err.toExponential(2)}; without the scaling the logits move by ${(100 * moved).toFixed(1)}% of the largest`);
    expect(err).toBeLessThan(LOGITS_TOLERANCE);
    expect(moved).toBeGreaterThan(0.01);
  });
});
