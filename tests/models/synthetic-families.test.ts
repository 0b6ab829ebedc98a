/**
 * `permllm synthesize` presets for every family: each writes its family's real config.json
 * fields and tensor names with the family's tokenizer where the packages have it, loads back
 * through the loader (which checks every tensor is used), counts its parameters right, runs in
 * the plaintext oracle, and is privately servable (ring64) exactly when it needs no missing private step.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { resolveSyntheticSpec, syntheticParameterCount, writeSyntheticModel } from '../../model/synthetic/index.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { missingPrivateSteps } from '../../protocol/model/private-steps.js';
import { argmax } from '../../sampling/index.js';
import { scratchDir } from './model-dirs.js';

let work: string;
beforeAll(async () => {
  work = await scratchDir('synthetic-families');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// Building a 128k/152k-token tokenizer takes seconds: each is built once (from the first folder that has it).
const tokenizers = new Map<string, Tokenizer>();
async function writeAndLoad(preset: string): Promise<ModelDescription> {
  const dir = path.join(work, preset);
  await writeSyntheticModel(dir, preset as Parameters<typeof writeSyntheticModel>[1], 3);
  const name = resolveSyntheticSpec(preset as Parameters<typeof resolveSyntheticSpec>[0]).tokenizer;
  const cached = tokenizers.get(name);
  const model = await loadHuggingFaceModel(dir, cached ? { tokenizer: cached } : {});
  tokenizers.set(name, model.tokenizer);
  return model;
}

const FAMILY_PRESETS = [
  ['llama3.2-like-tiny', 'llama', true, true],
  ['qwen3-like-tiny', 'qwen3', true, true],
  ['phi3-like-tiny', 'phi3', true, true],
  ['gemma2-like-tiny', 'gemma2', true, true],
  ['gemma3-like-tiny', 'gemma3', true, true],
  ['mixtral-like-tiny', 'mixtral', false, true],
  ['qwen3-moe-like-tiny', 'qwen3-moe', false, true],
  ['gpt-oss-like-tiny', 'gpt-oss', false, false],
] as const;

function parameters(model: ModelDescription): number {
  const w = model.weights;
  let n = w.embedding.length + w.finalNorm.length + (w.lmHead === w.embedding ? 0 : w.lmHead.length);
  for (const layer of w.layers) for (const t of Object.values(layer)) if (t instanceof Float32Array) n += t.length;
  return n;
}

describe.each(FAMILY_PRESETS)('synthetic preset %s', (preset, architecture, servable, ringServable) => {
  it('loads through the HF loader, counts its parameters, generates in the oracle', async () => {
    const model = await writeAndLoad(preset);
    expect(model.config.architecture).toBe(architecture);
    expect(parameters(model)).toBe(syntheticParameterCount(resolveSyntheticSpec(preset)));
    expect(missingPrivateSteps(model.config).length === 0).toBe(servable);
    expect(missingPrivateSteps(model.config, 'ring64').length === 0).toBe(ringServable);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const seq = new PlaintextModel(model).newSequence();
    let logits = await seq.prefill(prompt);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      out.push(argmax(logits));
      expect(logits.every(Number.isFinite)).toBe(true);
      if (i < 2) logits = await seq.decode(out[i]!);
    }
    console.log(`${preset}: ${syntheticParameterCount(resolveSyntheticSpec(preset)).toLocaleString('en-US')} parameters, vocab ${model.config.vocabSize}, greedy ${JSON.stringify(model.tokenizer.decode(out))}`);
  });
});
