/**
 * Synthetic models: seeded, deterministic, any Llama shape, written as real Hugging Face
 * folders with real tokenizers, and identical bit for bit whether generated in memory or
 * read back from disk.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import {
  ensureSyntheticModel,
  generateSyntheticModel,
  resolveSyntheticSpec,
  syntheticParameterCount,
  writeSyntheticModel,
  type SyntheticSpecInput,
} from '../../model/synthetic/index.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { run as synthesize } from '../../cli/synthesize-command.js';
import { sameBits, scratchDir } from './model-dirs.js';

let work: string;
beforeAll(async () => {
  work = await scratchDir('synthetic');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

async function greedy(model: ModelDescription, prompt: string, n: number): Promise<number[]> {
  const sequence = new PlaintextModel(model).newSequence();
  let logits = await sequence.prefill(model.tokenizer.encode(prompt));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(argmax(logits));
    if (i < n - 1) logits = await sequence.decode(out[i]!);
  }
  return out;
}

function statistics(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean) };
}

function expectSameWeights(a: ModelDescription, b: ModelDescription): void {
  expect(b.config).toEqual(a.config);
  expect(sameBits(b.weights.embedding, a.weights.embedding), 'embedding').toBe(true);
  expect(sameBits(b.weights.finalNorm, a.weights.finalNorm), 'finalNorm').toBe(true);
  expect(sameBits(b.weights.lmHead, a.weights.lmHead), 'lmHead').toBe(true);
  a.weights.layers.forEach((layer, l) => {
    const other = b.weights.layers[l]!;
    expect(Object.keys(other).sort()).toEqual(Object.keys(layer).sort());
    for (const [name, data] of Object.entries(layer)) expect(sameBits(other[name as keyof typeof other], data), `layer ${l} ${name}`).toBe(true);
  });
}

describe('llama3-like-small', () => {
  it('is cached, loads as a Hugging Face folder and generates greedily through the plaintext pass', async () => {
    const dir = await ensureSyntheticModel('llama3-like-small', 0);
    expect(path.basename(dir)).toMatch(/^llama3-like-small-0-[0-9a-f]{12}$/);
    const marker = await stat(path.join(dir, 'synthetic.json'));
    expect(await ensureSyntheticModel('llama3-like-small', 0)).toBe(dir);
    expect((await stat(path.join(dir, 'synthetic.json'))).mtimeMs).toBe(marker.mtimeMs); // not rewritten

    const provenance = JSON.parse(await readFile(path.join(dir, 'synthetic.json'), 'utf8')) as { parameters: number };
    expect(provenance.parameters).toBe(77_730_304);

    const model = await loadHuggingFaceModel(dir);
    expect(model.config).toMatchObject({ dim: 512, nLayers: 4, nHeads: 8, nKvHeads: 2, hiddenDim: 1536, headDim: 64, vocabSize: 128256, tiedEmbeddings: true });
    expect(model.source.dtype).toBe('bf16');
    expect(model.weights.lmHead).toBe(model.weights.embedding);
    expect(model.tokenizer.bosId).toBe(128000);
    expect(model.chatTemplate).toContain('<|start_header_id|>');

    const tokens = await greedy(model, 'Once upon a time', 4);
    expect(tokens).toHaveLength(4);
    for (const t of tokens) expect(t).toBeLessThan(128256);
    expect(await greedy(model, 'Once upon a time', 4)).toEqual(tokens);
    console.log(`llama3-like-small greedy: ${JSON.stringify(tokens)} ${JSON.stringify(model.tokenizer.decode(tokens))}`);
  });
});

describe('generator', () => {
  it('writes exactly the model it generates (qwen2-like-tiny: q/k/v biases, padded vocabulary, tied)', async () => {
    const inMemory = await generateSyntheticModel('qwen2-like-tiny', 7);
    const dir = path.join(work, 'qwen2-like-tiny');
    await writeSyntheticModel(dir, 'qwen2-like-tiny', 7);
    const loaded = await loadHuggingFaceModel(dir);
    expect(loaded.config.architecture).toBe('qwen2');
    expect(loaded.config.vocabSize).toBe(151936);
    expect(loaded.weights.layers[0]!.bq).toBeDefined();
    expectSameWeights(inMemory, loaded);
    const prompt = loaded.tokenizer.encode('Hello there');
    expect(sameBits(await new PlaintextModel(loaded).forwardAll(prompt), await new PlaintextModel(inMemory).forwardAll(prompt))).toBe(true);
  });

  it('handles any shape: untied f32, custom head dim, several shards', async () => {
    const spec: SyntheticSpecInput = {
      dim: 96, hiddenDim: 200, nLayers: 3, nHeads: 4, nKvHeads: 1, headDim: 32, tokenizer: 'llama3-32k',
      tiedEmbeddings: false, dtype: 'f32', maxSeqLen: 64,
    };
    const inMemory = await generateSyntheticModel(spec, 'abc');
    const dir = path.join(work, 'custom');
    await writeSyntheticModel(dir, spec, 'abc', { shards: 4 });
    expect((await readdir(dir)).filter((f) => f.endsWith('.safetensors'))).toHaveLength(4);
    const loaded = await loadHuggingFaceModel(dir);
    expect(loaded.config).toMatchObject({ dim: 96, headDim: 32, nKvHeads: 1, vocabSize: 32000, tiedEmbeddings: false, maxSeqLen: 64 });
    expect(loaded.weights.lmHead).not.toBe(loaded.weights.embedding);
    expectSameWeights(inMemory, loaded);
    expect(syntheticParameterCount(resolveSyntheticSpec(spec))).toBe(
      2 * 32000 * 96 + 3 * (2 * 96 + 128 * 96 + 2 * 32 * 96 + 96 * 128 + 3 * 200 * 96) + 96,
    );
  });

  it('is deterministic in the seed, with O(1) activations by construction', async () => {
    const spec: SyntheticSpecInput = { dim: 128, hiddenDim: 256, nLayers: 1, nHeads: 4, nKvHeads: 2, tokenizer: 'llama3-32k', tiedEmbeddings: true, dtype: 'f32' };
    const [a, b, c] = await Promise.all([generateSyntheticModel(spec, 1), generateSyntheticModel(spec, 1), generateSyntheticModel(spec, 2)]);
    expectSameWeights(a, b);
    expect(sameBits(c.weights.layers[0]!.wq, a.weights.layers[0]!.wq)).toBe(false);

    const wq = statistics(a.weights.layers[0]!.wq);
    expect(Math.abs(wq.mean)).toBeLessThan(0.01);
    expect(wq.std).toBeGreaterThan(0.95 / Math.sqrt(128));
    expect(wq.std).toBeLessThan(1.05 / Math.sqrt(128));
    const w2 = statistics(a.weights.layers[0]!.w2);
    expect(w2.std).toBeGreaterThan(0.95 / Math.sqrt(256));
    expect(w2.std).toBeLessThan(1.05 / Math.sqrt(256));
    const norm = statistics(a.weights.layers[0]!.attnNorm);
    expect(norm.mean).toBeGreaterThan(0.98);
    expect(norm.mean).toBeLessThan(1.02);
    // Logits of a random model stay O(1): neither collapsed nor exploding.
    const logits = await new PlaintextModel(a).forwardAll(a.tokenizer.encode('The quick brown fox'));
    const { std } = statistics(logits);
    expect(std).toBeGreaterThan(0.3);
    expect(std).toBeLessThan(3);
  });

  it('rejects impossible specs, listing every problem', async () => {
    await expect(
      generateSyntheticModel({ dim: 100, hiddenDim: 64, nLayers: 1, nHeads: 3, nKvHeads: 2, tokenizer: 'llama3', vocabSize: 1000, tiedEmbeddings: true }, 0),
    ).rejects.toThrow(/nHeads: dim 100 is not divisible by nHeads 3.*nKvHeads: nHeads 3 is not a multiple of nKvHeads 2.*vocabSize: vocabSize 1000 is smaller than the llama3 tokenizer/);
    await expect(generateSyntheticModel('no-such-preset' as never, 0)).rejects.toThrow(/unknown synthetic preset "no-such-preset"/);
  });
});

describe('dim256-vocab32k', () => {
  it('has a 32,000-token vocabulary end to end', async () => {
    const model = await loadHuggingFaceModel(await ensureSyntheticModel('dim256-vocab32k', 0));
    expect(model.config).toMatchObject({ dim: 256, nLayers: 4, nHeads: 8, nKvHeads: 4, hiddenDim: 768, vocabSize: 32000, tiedEmbeddings: false });
    expect(model.tokenizer.vocabSize).toBe(32000);
    const text = 'A model with a Llama-2-sized vocabulary.';
    expect(model.tokenizer.decode(model.tokenizer.encode(text))).toBe(text);
    const [token] = await greedy(model, text, 1);
    expect(token).toBeLessThan(32000);
  });
});

describe('permllm synthesize', () => {
  it('writes a preset to --out, refuses a non-empty folder and unknown presets', async () => {
    const out = path.join(work, 'cli-out');
    expect(await synthesize(['--preset', 'qwen2-like-tiny', '--seed', '3', '--out', out])).toBe(0);
    const model = await loadHuggingFaceModel(out);
    expect(model.id).toBe('cli-out');
    expect(sameBits(model.weights.embedding, (await generateSyntheticModel('qwen2-like-tiny', 3)).weights.embedding)).toBe(true);
    expect(await synthesize(['--preset', 'qwen2-like-tiny', '--out', out])).toBe(1);
    expect(await synthesize(['--preset', 'no-such-preset'])).toBe(2);
    expect(await synthesize(['--seed', 'x', '--preset', 'qwen2-like-tiny'])).toBe(2);
  });
});
