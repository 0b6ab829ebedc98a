/**
 * ring64 private serving of the families with new nonlinear private steps (issue 13): each on a
 * synthetic checkpoint with its real Hugging Face config layout, private == fixed-point oracle
 * bit for bit (logits and tokens), fixed-point oracle == float plaintext in greedy text, with
 * the flights per layer and bytes per token printed beside the Llama baseline of the same shapes.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { buildCheckpoint, GEMMA2_CONFIG, GEMMA3_CONFIG, QWEN3_CONFIG, writeCheckpoint, type HfConfig } from '../helpers/hf-family-checkpoints.js';
import { FIXED_POINT_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import type { ModelVariant } from '../../model/model-description.js';
import { fixedPointGenerate, logitsError, pairModel, plaintextGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';
import { scratchDir, stories260KDir } from './model-dirs.js';

const TOKENS = 10;
let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('private-families-ring');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const load = async (name: string, config: HfConfig) => loadHuggingFaceModel(await writeCheckpoint(path.join(work, name), buildCheckpoint(config, name)), { tokenizer });

describe('ring64: private == fixed-point oracle bit for bit, greedy text == float plaintext', () => {
  it.each([
    ['qwen3', { ...QWEN3_CONFIG, torch_dtype: 'float32' }],
    // Gemma 2's real layout; its cap 50 would never act on these small synthetic scores (|s| ≈ 2), a cap of 1 does.
    ['gemma-2, acting attention cap', { ...GEMMA2_CONFIG, attn_logit_softcapping: 1.0 }],
    ['gemma-3', { ...GEMMA3_CONFIG, torch_dtype: 'float32' }],
  ] as const)('%s', async (name, config) => {
    const model = await load(name.replace(/\W+/g, '_'), config);
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    const parties = await pairModel(model, RING64_PROFILE);
    const priv = await privateGenerateInProcess(parties, prompt, TOKENS);
    const oracle = await fixedPointGenerate(parties, prompt, TOKENS);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const { stats } = priv;
    const perToken = stats.perToken.bytesToEngine + stats.perToken.bytesFromEngine + stats.perToken.dealerBytesToGateway;
    const err = logitsError(oracle.logits, plain.logits);
    console.log(`${name}: fixed-point vs float max logit error ${err.absolute.toExponential(2)} (relative ${err.relative.toExponential(2)}, bound ${FIXED_POINT_RELATIVE_BOUND}); flights/layer ${stats.flightsPerLayer}, bytes/token to engine ${stats.perToken.bytesToEngine}, from engine ${stats.perToken.bytesFromEngine}, dealer→gateway ${stats.perToken.dealerBytesToGateway} (total ${perToken}); plan ${JSON.stringify(parties.fixedPoint!.plan.layers[0])}, ranges ${JSON.stringify(parties.fixedPoint!.plan.ranges)}`);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(oracle.tokens).toEqual(plain.tokens);
    expect(err.relative).toBeLessThan(FIXED_POINT_RELATIVE_BOUND);
  });
});

describe('ring64: each public step of the Gemma variants matters (the oracle without it leaves the float plaintext)', () => {
  it.each([
    ['gemma-2, acting attention cap', { ...GEMMA2_CONFIG, attn_logit_softcapping: 1.0 }, ['layerWindows', 'attentionSoftcap', 'finalSoftcap', 'attentionScale', 'activation']],
    ['gemma-3', { ...GEMMA3_CONFIG, torch_dtype: 'float32' }, ['layerWindows', 'attentionScale', 'localRope', 'activation']],
  ] as const)('%s', async (name, config, steps) => {
    const model = await load(`sens_${name.replace(/\W+/g, '_')}`, config);
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    const parties = await pairModel(model, RING64_PROFILE);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const run = async (variant: ModelVariant) => {
      const seq = new FixedPointModel({ ...model.config, variant }, parties.fixedPoint!.plan, parties.fixedPoint!.weights).newSequence();
      const logits: Float64Array[] = [];
      let current = seq.decodeLogits(await seq.prefill(prompt));
      for (let i = 0; i < TOKENS; i++) {
        logits.push(current);
        if (i + 1 < TOKENS) current = seq.decodeLogits(await seq.decode(plain.tokens[i]!));
      }
      return logitsError(logits, plain.logits).relative;
    };
    const variant = model.config.variant!;
    const full = await run(variant);
    const without: Record<string, number> = {};
    for (const step of steps) without[step] = await run({ ...variant, [step]: undefined });
    console.log(`${name}: fixed-point vs float relative logit error ${full.toExponential(2)}; without ${Object.entries(without).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    for (const step of steps) expect(without[step], step).toBeGreaterThan(10 * full);
  });
});
