/**
 * A synthetic model in memory: seeded random weights at any Llama-family shape, with a real
 * tokenizer. Identical (bit for bit) to what `writeSyntheticModel` writes and
 * `loadHuggingFaceModel` reads back for the same spec and seed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuggingFaceTokenizer, tokenizerConfigSchema, tokenizerJsonSchema } from '../huggingface/huggingface-tokenizer.js';
import { loadHuggingFaceModel } from '../huggingface/load-huggingface-model.js';
import type { LayerWeights, ModelDescription } from '../model-description.js';
import { resolveSyntheticSpec, syntheticModelConfig, type SyntheticPresetName, type SyntheticSpecInput } from './synthetic-spec.js';
import { syntheticTokenizerFiles } from './synthetic-tokenizer-files.js';
import { syntheticTensors } from './synthetic-weights.js';
import { writeSyntheticModel } from './write-synthetic-model.js';

export async function generateSyntheticModel(
  specOrPreset: SyntheticSpecInput | SyntheticPresetName,
  seed: number | bigint | string,
): Promise<ModelDescription> {
  const spec = resolveSyntheticSpec(specOrPreset);
  const name = typeof specOrPreset === 'string' ? specOrPreset : 'custom';
  if (spec.family) {
    // Family layouts are defined by their HF folder: write it and load it (exactly what a user loads).
    const dir = await mkdtemp(join(tmpdir(), 'permllm-synthetic-family-'));
    try {
      await writeSyntheticModel(dir, spec, seed);
      const model = await loadHuggingFaceModel(dir);
      return { ...model, id: `synthetic-${name}-${String(seed)}`, source: { path: `synthetic:${name}/${String(seed)}`, format: 'huggingface', dtype: spec.dtype } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const config = syntheticModelConfig(spec);
  const files = await syntheticTokenizerFiles(spec.tokenizer);
  const tokenizer = new HuggingFaceTokenizer(
    tokenizerJsonSchema.parse(JSON.parse(files.tokenizerJson)),
    tokenizerConfigSchema.parse(JSON.parse(files.tokenizerConfigJson)),
  );

  let embedding: Float32Array | undefined;
  let finalNorm: Float32Array | undefined;
  let lmHead: Float32Array | undefined;
  const layers: Array<Partial<LayerWeights>> = Array.from({ length: config.nLayers }, () => ({}));
  for (const tensor of syntheticTensors(spec, seed)) {
    const data = typeof tensor.data === 'function' ? tensor.data() : tensor.data;
    const key = tensor.key;
    if (key.kind === 'embedding') embedding = data;
    else if (key.kind === 'finalNorm') finalNorm = data;
    else if (key.kind === 'lmHead') lmHead = data;
    else layers[key.layer]![key.tensor] = data;
  }
  const description: ModelDescription = {
    id: `synthetic-${name}-${String(seed)}`,
    source: { path: `synthetic:${name}/${String(seed)}`, format: 'huggingface', dtype: spec.dtype },
    config,
    weights: {
      embedding: embedding!,
      // Every layer got all its tensors from the canonical key list.
      layers: layers as LayerWeights[],
      finalNorm: finalNorm!,
      lmHead: lmHead ?? embedding!,
    },
    tokenizer,
  };
  if (tokenizer.chatTemplate !== undefined) description.chatTemplate = tokenizer.chatTemplate;
  return description;
}
