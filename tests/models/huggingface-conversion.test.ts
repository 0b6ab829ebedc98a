/**
 * stories260K (llama2.c, interleaved RoPE) → Hugging Face folder (half-split RoPE, sharded
 * safetensors) → loadHuggingFaceModel must be the same model: same logits through the
 * plaintext forward pass, and f16/bf16 copies within their rounding.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { writeHuggingFaceFolder } from '../../model/huggingface/write-huggingface-folder.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { sameBits, scratchDir, stories260KDir } from './model-dirs.js';

let original: ModelDescription;
let work: string;

beforeAll(async () => {
  original = await loadModel(stories260KDir);
  work = await scratchDir('hf-conversion');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Every weight tensor of a model, by name, in our layout. */
function tensorsOf(model: ModelDescription): Map<string, Float32Array> {
  const w = model.weights;
  const out = new Map<string, Float32Array>([
    ['embedding', w.embedding],
    ['finalNorm', w.finalNorm],
    ['lmHead', w.lmHead],
  ]);
  w.layers.forEach((layer, l) => {
    for (const [name, data] of Object.entries(layer)) if (data instanceof Float32Array) out.set(`layers.${l}.${name}`, data);
  });
  return out;
}

describe('stories260K through a Hugging Face folder', () => {
  it('gives the same logits as the llama2.c path (f32, 2 shards)', async () => {
    const dir = path.join(work, 'stories260K-f32');
    await writeHuggingFaceFolder(dir, original, { dtype: 'f32', shards: 2 });
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
    const index = JSON.parse(await readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(new Set(Object.values(index.weight_map)).size).toBe(2);
    // The half-split layout really is on disk: wq differs from ours, but loads back to it.
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['architectures']).toEqual(['LlamaForCausalLM']);
    expect(config['tie_word_embeddings']).toBe(true);

    const converted = await loadHuggingFaceModel(dir, { tokenizer: original.tokenizer });
    expect(converted.config).toEqual({ ...original.config, architecture: 'llama' });
    expect(converted.source).toEqual({ path: dir, format: 'huggingface', dtype: 'f32' });
    expect(converted.id).toBe('stories260K-f32');
    expect(converted.weights.lmHead).toBe(converted.weights.embedding);
    const convertedTensors = tensorsOf(converted);
    for (const [name, data] of tensorsOf(original)) expect(sameBits(convertedTensors.get(name), data), name).toBe(true);

    const prompt = original.tokenizer.encode('Once upon a time, there was a little girl', { addBos: true });
    const [expected, actual] = await Promise.all([
      new PlaintextModel(original).forwardAll(prompt),
      new PlaintextModel(converted).forwardAll(prompt),
    ]);
    const diff = maxAbsDiff(expected, actual);
    console.log(`stories260K llama2.c vs HF folder: ${prompt.length} positions x ${original.config.vocabSize} logits, max |diff| = ${diff}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('writes a single model.safetensors by default and stores wq/wk half-split', async () => {
    const dir = path.join(work, 'stories260K-single');
    await writeHuggingFaceFolder(dir, original, { dtype: 'f32' });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    const { SafetensorsFile } = await import('../../model/huggingface/safetensors-file.js');
    const file = await SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    try {
      const { dim, headDim } = original.config;
      const { data: wqOnDisk } = await file.read('model.layers.0.self_attn.q_proj.weight');
      const wq = original.weights.layers[0]!.wq;
      // Disk row i of head 0 = our row 2i; disk row i + headDim/2 = our row 2i + 1.
      for (const i of [0, 1, headDim / 2 - 1]) {
        expect(wqOnDisk.subarray(i * dim, (i + 1) * dim)).toEqual(wq.subarray(2 * i * dim, (2 * i + 1) * dim));
        expect(wqOnDisk.subarray((i + headDim / 2) * dim, (i + headDim / 2 + 1) * dim)).toEqual(wq.subarray((2 * i + 1) * dim, (2 * i + 2) * dim));
      }
      expect(sameBits(wqOnDisk, wq)).toBe(false);
    } finally {
      await file.close();
    }
  });

  it.each([
    // f16: 11 significant bits, relative error ≤ 2^-11 for normals; absolute 2^-25 near zero.
    ['f16', 2 ** -11, 2 ** -25],
    // bf16: 8 significant bits, relative error ≤ 2^-8; its range is float32's.
    ['bf16', 2 ** -8, 0],
  ] as const)('round-trips every tensor through %s within its rounding', async (dtype, relative, absolute) => {
    const dir = path.join(work, `stories260K-${dtype}`);
    await writeHuggingFaceFolder(dir, original, { dtype, shards: 3 });
    const converted = await loadHuggingFaceModel(dir, { tokenizer: original.tokenizer });
    expect(converted.source.dtype).toBe(dtype);
    const loaded = tensorsOf(converted);
    let worst = 0;
    let changed = 0;
    for (const [name, data] of tensorsOf(original)) {
      const back = loaded.get(name)!;
      expect(back.length, name).toBe(data.length);
      for (let i = 0; i < data.length; i++) {
        const err = Math.abs(back[i]! - data[i]!);
        const bound = relative * Math.abs(data[i]!) + absolute;
        if (err > bound) expect.fail(`${name}[${i}]: ${data[i]} came back as ${back[i]} (error ${err} > ${bound})`);
        worst = Math.max(worst, err / bound);
        if (err > 0) changed++;
      }
    }
    // The rounding really happened (a writer that silently kept f32 would fail here).
    expect(changed).toBeGreaterThan(1000);
    console.log(`stories260K ${dtype} round trip: worst error = ${worst.toFixed(3)} x its rounding bound, ${changed} values rounded`);
  });
});
