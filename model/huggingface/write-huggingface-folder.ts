/**
 * Writes a model as a Hugging Face folder: config.json, safetensors (one file or N shards
 * with model.safetensors.index.json) and, when given, tokenizer.json / tokenizer_config.json.
 * The rows of wq/wk (and bq/bk) go back from our interleaved RoPE layout to HF's half-split
 * one, so that transformers (and our loader) read the same model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig, ModelDescription } from '../model-description.js';
import { toHuggingFaceConfig } from './huggingface-config.js';
import { EMBEDDING, FINAL_NORM, layerTensorName, LM_HEAD, ropeHeads } from './huggingface-tensor-names.js';
import { modelTensors, type ModelTensor, type ModelTensorKey } from './model-tensor-list.js';
import { interleavedToHalfSplit } from './rope-layout.js';
import type { WeightDtype } from './safetensors-dtype.js';
import { INDEX_FILE, SINGLE_FILE } from './safetensors-source.js';
import { tensorBytes, writeSafetensors, type TensorToWrite } from './safetensors-writer.js';

export interface TokenizerFiles {
  /** The text of tokenizer.json. */
  tokenizerJson: string;
  /** The text of tokenizer_config.json. */
  tokenizerConfigJson: string;
}

export interface WriteHuggingFaceOptions {
  dtype: WeightDtype;
  /** Number of safetensors files (default 1: a single model.safetensors). */
  shards?: number;
  tokenizerFiles?: TokenizerFiles;
}

/** Writes `model` to `dir` (created if needed; existing files of the same names are replaced). */
export async function writeHuggingFaceFolder(dir: string, model: ModelDescription, opts: WriteHuggingFaceOptions): Promise<void> {
  const eos = [...model.tokenizer.eosIds];
  await writeHuggingFaceTensors(dir, model.config, modelTensors(model), {
    ...opts,
    bosTokenId: model.tokenizer.bosId,
    eosTokenIds: eos,
  });
}

/**
 * The general form: tensors in our layout and canonical order (model-tensor-list.ts), written
 * in that order; lazy tensors are produced one at a time.
 */
export async function writeHuggingFaceTensors(
  dir: string,
  config: ModelConfig,
  tensors: readonly ModelTensor[],
  opts: WriteHuggingFaceOptions & { bosTokenId?: number | undefined; eosTokenIds?: readonly number[] },
): Promise<void> {
  const shards = opts.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > tensors.length) {
    throw new RangeError(`writeHuggingFaceFolder: shards must be an integer in 1..${tensors.length}, got ${shards}`);
  }
  await mkdir(dir, { recursive: true });
  const qkvBias = tensors.some((t) => t.key.kind === 'layer' && t.key.tensor === 'bq');
  const eos = opts.eosTokenIds ?? [];
  const configJson = toHuggingFaceConfig(config, {
    dtype: opts.dtype,
    qkvBias,
    bosTokenId: opts.bosTokenId,
    eosTokenId: eos.length === 0 ? undefined : eos.length === 1 ? eos[0] : eos,
  });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);

  const toWrite: TensorToWrite[] = tensors.map((t) => ({
    name: huggingFaceName(t.key),
    shape: t.shape,
    data: () => toHuggingFaceLayout(config, t),
  }));
  if (shards === 1) {
    await writeSafetensors(join(dir, SINGLE_FILE), toWrite, opts.dtype);
  } else {
    const groups = splitBySize(toWrite, shards, opts.dtype);
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (const [i, group] of groups.entries()) {
      const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      await writeSafetensors(join(dir, file), group, opts.dtype);
      for (const t of group) {
        weightMap[t.name] = file;
        totalSize += tensorBytes(t.shape, opts.dtype);
      }
    }
    const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
    await writeFile(join(dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  }
  if (opts.tokenizerFiles) {
    await writeFile(join(dir, 'tokenizer.json'), opts.tokenizerFiles.tokenizerJson);
    await writeFile(join(dir, 'tokenizer_config.json'), opts.tokenizerFiles.tokenizerConfigJson);
  }
}

function huggingFaceName(key: ModelTensorKey): string {
  switch (key.kind) {
    case 'embedding':
      return EMBEDDING;
    case 'finalNorm':
      return FINAL_NORM;
    case 'lmHead':
      return LM_HEAD;
    case 'layer':
      return layerTensorName(key.layer, key.tensor);
  }
}

function toHuggingFaceLayout(config: ModelConfig, tensor: ModelTensor): Float32Array {
  const data = typeof tensor.data === 'function' ? tensor.data() : tensor.data;
  if (tensor.key.kind !== 'layer') return data;
  const heads = ropeHeads(config, tensor.key.tensor);
  if (heads === undefined) return data;
  const cols = tensor.key.tensor === 'bq' || tensor.key.tensor === 'bk' ? 1 : config.dim;
  return interleavedToHalfSplit(data, heads, config.headDim, cols);
}

/** Consecutive groups of roughly equal byte size, none empty. */
function splitBySize(tensors: readonly TensorToWrite[], shards: number, dtype: WeightDtype): TensorToWrite[][] {
  const sizes = tensors.map((t) => tensorBytes(t.shape, dtype));
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups: TensorToWrite[][] = [];
  let current: TensorToWrite[] = [];
  let cumulative = 0;
  for (const [i, t] of tensors.entries()) {
    current.push(t);
    cumulative += sizes[i]!;
    const remainingTensors = tensors.length - i - 1;
    const remainingGroups = shards - groups.length - 1;
    const boundaryReached = cumulative >= (total * (groups.length + 1)) / shards;
    if (remainingGroups > 0 && (boundaryReached || remainingTensors === remainingGroups)) {
      groups.push(current);
      current = [];
    }
  }
  groups.push(current);
  return groups;
}
