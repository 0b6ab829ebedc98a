/**
 * Private == plaintext on the families that map onto the existing private steps: Llama 3.2's
 * layout with RoPE scaling (only the public per-position rotation changes; every party builds
 * it from the config's ropeScaling) and Phi-3 (fused projections split at load: Llama math).
 * The families that need new nonlinear private steps are refused, naming the missing step.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { UnsupportedPrivateModelError } from '../../protocol/model/private-steps.js';
import { modelConfigSchema } from '../../protocol/transport/model-card.js';
import {
  buildCheckpoint,
  GEMMA2_CONFIG,
  GEMMA3_CONFIG,
  GPT_OSS_CONFIG,
  llamaWithRope,
  MIXTRAL_CONFIG,
  PHI35_CONFIG,
  PHI3_CONFIG,
  PHI4_MINI_CONFIG,
  QWEN3_CONFIG,
  QWEN3_MOE_CONFIG,
  writeCheckpoint,
  type HfConfig,
} from '../helpers/hf-family-checkpoints.js';
import { LOGITS_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsError, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';
import { PERMLLM_PROFILE, RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { UnsupportedRingRopeError } from '../../plaintext/fixed-point/ring-attention.js';
import { scratchDir, stories260KDir } from '../models/model-dirs.js';

const TOKENS = 12;
let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('private-families');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const load = async (name: string, config: HfConfig) => loadHuggingFaceModel(await writeCheckpoint(path.join(work, name), buildCheckpoint(config, name)), { tokenizer });

describe('private == plaintext (permllm-f64)', () => {
  it.each([
    // Scaled-down original length (16) so that the scaling acts on every pair within the run.
    ['llama3 rope scaling', llamaWithRope({ rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 })],
    ['yarn rope scaling', llamaWithRope({ rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 })],
    ['phi-3', { ...PHI3_CONFIG, torch_dtype: 'float32' }],
    // 14 prompt + 12 generated positions cross the scaled-down original length 16, where longrope switches factors.
    ['phi-3.5 longrope', PHI35_CONFIG],
    ['phi-4-mini partial rotary + longrope', PHI4_MINI_CONFIG],
    ['qwen3 per-head q/k norm', { ...QWEN3_CONFIG, torch_dtype: 'float32' }],
    // An attention cap of 1 acts on these small synthetic scores (Gemma 2's 50 would not).
    ['gemma-2 (acting attention cap)', { ...GEMMA2_CONFIG, attn_logit_softcapping: 1.0 }],
    ['gemma-3', { ...GEMMA3_CONFIG, torch_dtype: 'float32' }],
  ] as const)('%s: greedy tokens equal, logits within the profile bound', async (name, config) => {
    const model = await load(name.replace(/\W+/g, '_'), config);
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const priv = await privateGenerateInProcess(await pairModel(model, PERMLLM_PROFILE), prompt, TOKENS);
    const err = sortedLogitsError(priv.logits, plain.logits);
    let unscaledErr = 0;
    if (model.config.ropeScaling) {
      // The private logits follow the scaled rotation, not plain RoPE: against the same weights
      // without ropeScaling they are far outside the bound.
      const unscaled = await plaintextGenerate({ ...model, config: { ...model.config, ropeScaling: undefined } }, prompt, TOKENS);
      unscaledErr = sortedLogitsError(priv.logits.slice(0, 1), unscaled.logits.slice(0, 1));
      expect(unscaledErr).toBeGreaterThan(10 * LOGITS_RELATIVE_BOUND);
    }
    console.log(`${name}: ${TOKENS} tokens, private vs plaintext sorted-logits max rel error ${err.toExponential(2)} (bound ${LOGITS_RELATIVE_BOUND})${model.config.ropeScaling ? `; vs unscaled RoPE ${unscaledErr.toExponential(2)}` : ''}`);
    expect(priv.tokens).toEqual(plain.tokens);
    expect(tokenizer.decode(priv.tokens)).toBe(tokenizer.decode(plain.tokens));
    expect(err).toBeLessThan(LOGITS_RELATIVE_BOUND);
  });
});

describe('ring64 on RoPE-scaled families', () => {
  // RoPE folds into the scores' bilinear form when the angle depends on the distance alone.
  it.each([
    ['llama3 rope scaling', llamaWithRope({ rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 })],
    ['yarn rope scaling', llamaWithRope({ rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 16 })],
    ['phi-4-mini partial rotary', { ...PHI4_MINI_CONFIG, rope_scaling: null }],
  ] as const)('%s: private == fixed-point oracle bit for bit, greedy text equal to the float plaintext', async (name, config) => {
    const model = await load(`ring_${name.replace(/\W+/g, '_')}`, config);
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    const parties = await pairModel(model, RING64_PROFILE);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
  });

  it('refuses position-dependent scaling (longrope) with a clear error', async () => {
    const model = await load('ring_phi35', PHI35_CONFIG);
    await expect(pairModel(model, RING64_PROFILE)).rejects.toThrow(UnsupportedRingRopeError);
  });
});

describe('families needing new private steps are refused before any pairing', () => {
  // Mixtral and Qwen3-MoE run under ring64 (tests/protocol/private-moe.test.ts); the float profile has no MoE step.
  it.each([
    ['mixtral', MIXTRAL_CONFIG, PERMLLM_PROFILE, [/mixture-of-experts routing/]],
    ['qwen3-moe', QWEN3_MOE_CONFIG, PERMLLM_PROFILE, [/mixture-of-experts routing/]],
    ['gpt-oss', GPT_OSS_CONFIG, RING64_PROFILE, [/attention sinks/, /o_proj bias/, /clamped SwiGLU/, /mixture-of-experts routing/]],
  ] as const)('%s', async (name, config, profile, steps) => {
    const model = await load(`refused-${name}`, config);
    let error: unknown;
    try {
      await pairModel(model, profile);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedPrivateModelError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot be served privately`);
    expect(message).toContain('--plaintext');
    for (const step of steps) expect(message).toMatch(step);
  });
});

describe('the model card carries the RoPE scaling to the gateway and the dealer', () => {
  it('keeps ropeScaling through the card schema and rejects an unknown scaling', async () => {
    const model = await load('card-llama3', llamaWithRope({ rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 }));
    const config = { ...model.config };
    expect(modelConfigSchema.parse(JSON.parse(JSON.stringify(config)))).toEqual(config);
    expect(modelConfigSchema.safeParse({ ...config, ropeScaling: { type: 'longrope', factor: 2 } }).success).toBe(false);
  });
});
