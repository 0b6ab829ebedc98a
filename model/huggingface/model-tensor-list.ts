/**
 * A model's tensors as an ordered list in OUR layout (interleaved RoPE rows), each addressed
 * by what it is and produced eagerly or lazily. Writers consume the list in order, which lets
 * a seeded generator produce one tensor at a time and never hold the whole model.
 */
import type { ModelConfig, ModelDescription } from '../model-description.js';
import { layerTensorShape, type LayerTensor } from './huggingface-tensor-names.js';

export type ModelTensorKey =
  | { kind: 'embedding' }
  | { kind: 'finalNorm' }
  | { kind: 'lmHead' }
  | { kind: 'layer'; layer: number; tensor: LayerTensor };

export interface ModelTensor {
  key: ModelTensorKey;
  shape: readonly number[];
  data: Float32Array | (() => Float32Array);
}

/**
 * The canonical order: embedding; per layer attnNorm, wq, (bq), wk, (bk), wv, (bv), wo,
 * ffnNorm, w1, w3, w2; finalNorm; lmHead (only when untied).
 */
export function modelTensorKeys(config: ModelConfig, qkvBias: boolean): ModelTensorKey[] {
  const keys: ModelTensorKey[] = [{ kind: 'embedding' }];
  for (let layer = 0; layer < config.nLayers; layer++) {
    const tensors: LayerTensor[] = qkvBias
      ? ['attnNorm', 'wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'ffnNorm', 'w1', 'w3', 'w2']
      : ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'ffnNorm', 'w1', 'w3', 'w2'];
    for (const tensor of tensors) keys.push({ kind: 'layer', layer, tensor });
  }
  keys.push({ kind: 'finalNorm' });
  if (!config.tiedEmbeddings) keys.push({ kind: 'lmHead' });
  return keys;
}

export function modelTensorShape(config: ModelConfig, key: ModelTensorKey): number[] {
  switch (key.kind) {
    case 'embedding':
    case 'lmHead':
      return [config.vocabSize, config.dim];
    case 'finalNorm':
      return [config.dim];
    case 'layer':
      return layerTensorShape(config, key.tensor);
  }
}

/** The tensors of an in-memory model, in canonical order. */
export function modelTensors(model: ModelDescription): ModelTensor[] {
  const { config, weights } = model;
  const qkvBias = weights.layers.some((l) => l.bq !== undefined || l.bk !== undefined || l.bv !== undefined);
  const tied = config.tiedEmbeddings || weights.lmHead === weights.embedding;
  const keys = modelTensorKeys({ ...config, tiedEmbeddings: tied }, qkvBias);
  return keys.map((key) => {
    const data = tensorOf(model, key);
    if (!data) throw new RangeError(`model ${model.id}: tensor ${describeKey(key)} is missing (biases must be all present or all absent)`);
    return { key, shape: modelTensorShape(config, key), data };
  });
}

export function describeKey(key: ModelTensorKey): string {
  return key.kind === 'layer' ? `layers[${key.layer}].${key.tensor}` : key.kind;
}

function tensorOf(model: ModelDescription, key: ModelTensorKey): Float32Array | undefined {
  const w = model.weights;
  switch (key.kind) {
    case 'embedding':
      return w.embedding;
    case 'finalNorm':
      return w.finalNorm;
    case 'lmHead':
      return w.lmHead;
    case 'layer':
      return w.layers[key.layer]?.[key.tensor];
  }
}
