/**
 * Writes a synthetic model as a Hugging Face folder (config.json, safetensors, the real
 * tokenizer files, and synthetic.json recording spec and seed), generating one tensor at a
 * time so that even the 8B-layer preset never has to sit in memory whole.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prg } from '../../crypto/prg.js';
import { writeHuggingFaceTensors, type TokenizerFiles } from '../huggingface/write-huggingface-folder.js';
import { tensorBytes, writeSafetensors } from '../huggingface/safetensors-writer.js';
import { familyTensorShapes } from './family-tensor-names.js';
import {
  resolveSyntheticSpec,
  syntheticFamilyConfigJson,
  syntheticModelConfig,
  type SyntheticSpec,
  syntheticParameterCount,
  type SyntheticPresetName,
  type SyntheticSpecInput,
} from './synthetic-spec.js';
import { syntheticTokenizerFiles } from './synthetic-tokenizer-files.js';
import { normalArray, roundToDtype, syntheticTensors } from './synthetic-weights.js';

/** Bumped whenever the generator's output for a given spec and seed changes (invalidates caches). */
export const SYNTHETIC_GENERATOR_VERSION = 1;
/** The provenance file, written last: its presence marks a complete folder. */
export const SYNTHETIC_MARKER = 'synthetic.json';
/** Shard size limit, in the spirit of transformers' max_shard_size (keeps files well below 4 GiB). */
const MAX_SHARD_BYTES = 2 * 1024 ** 3;

/**
 * @param options.shards number of safetensors files (default: as few as keep each under 2 GiB)
 */
export async function writeSyntheticModel(
  dir: string,
  specOrPreset: SyntheticSpecInput | SyntheticPresetName,
  seed: number | bigint | string,
  options: { shards?: number } = {},
): Promise<void> {
  const spec = resolveSyntheticSpec(specOrPreset);
  const files = await syntheticTokenizerFiles(spec.tokenizer);
  const { bosId, eosId } = specialIds(files.tokenizerJson, files.tokenizerConfigJson);
  if (spec.family) {
    if ((options.shards ?? 1) !== 1) throw new RangeError(`synthetic ${spec.family}: family models are written as one model.safetensors (shards ${options.shards} asked)`);
    await writeFamilyFolder(dir, spec, seed, files, bosId, eosId);
  } else {
    await writeLlamaFolder(dir, spec, seed, files, bosId, eosId, options.shards);
  }
  const provenance = {
    generator: 'permllm synthetic',
    version: SYNTHETIC_GENERATOR_VERSION,
    preset: typeof specOrPreset === 'string' ? specOrPreset : null,
    seed: String(seed),
    spec,
    parameters: syntheticParameterCount(spec),
  };
  await writeFile(join(dir, SYNTHETIC_MARKER), `${JSON.stringify(provenance, null, 2)}\n`);
}

/**
 * A family model: its config.json (family-configs.ts) and every tensor under its HF name
 * (family-tensor-names.ts), drawn in list order from Prg.fromSeed('synthetic', seed) with
 * synthetic-weights.ts's initialisation (linear N(0, 1/in), embedding N(0, 1/dim), norm
 * multipliers 1 + N(0, 0.05²), stored as w for Gemma's 1 + w).
 */
async function writeFamilyFolder(dir: string, spec: SyntheticSpec, seed: number | bigint | string, files: TokenizerFiles, bosId: number | undefined, eosId: number | undefined): Promise<void> {
  const json = syntheticFamilyConfigJson(spec, { bosTokenId: bosId, eosTokenId: eosId })!;
  const gemma = spec.family === 'gemma2' || spec.family === 'gemma3';
  const prg = Prg.fromSeed('synthetic', seed);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  const tensors = familyTensorShapes(json).map((t) => ({
    name: t.name,
    shape: t.shape,
    data: () => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const [mean, std] =
        t.kind === 'linear' ? [0, 1 / Math.sqrt(t.shape[1]!)] : t.kind === 'embedding' ? [0, 1 / Math.sqrt(spec.dim)] : t.kind === 'bias' ? [0, 0.1] : [gemma ? 0 : 1, 0.05];
      return roundToDtype(normalArray(prg, n, mean, std), spec.dtype);
    },
  }));
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, spec.dtype);
  await writeFile(join(dir, 'tokenizer.json'), files.tokenizerJson);
  await writeFile(join(dir, 'tokenizer_config.json'), files.tokenizerConfigJson);
}

async function writeLlamaFolder(dir: string, spec: SyntheticSpec, seed: number | bigint | string, files: TokenizerFiles, bosId: number | undefined, eosId: number | undefined, shardsAsked: number | undefined): Promise<void> {
  const config = syntheticModelConfig(spec);
  const tensors = syntheticTensors(spec, seed);
  const totalBytes = tensors.reduce((sum, t) => sum + tensorBytes(t.shape, spec.dtype), 0);
  const shards = shardsAsked ?? Math.min(tensors.length, Math.max(1, Math.ceil(totalBytes / MAX_SHARD_BYTES)));
  await writeHuggingFaceTensors(dir, config, tensors, {
    dtype: spec.dtype,
    shards,
    tokenizerFiles: files,
    bosTokenId: bosId,
    eosTokenIds: eosId === undefined ? [] : [eosId],
  });
}

/** BOS / EOS ids from the tokenizer files without building a tokenizer. */
function specialIds(tokenizerJson: string, tokenizerConfigJson: string): { bosId?: number; eosId?: number } {
  // Files we ship ourselves (synthetic-tokenizer-files.ts); only these fields are read.
  const json = JSON.parse(tokenizerJson) as { added_tokens?: Array<{ id: number; content: string }> };
  const config = JSON.parse(tokenizerConfigJson) as { bos_token?: unknown; eos_token?: unknown };
  const idOf = (token: unknown): number | undefined => {
    const content = typeof token === 'string' ? token : (token as { content?: string } | null)?.content;
    return content === undefined ? undefined : json.added_tokens?.find((t) => t.content === content)?.id;
  };
  const bosId = idOf(config.bos_token);
  const eosId = idOf(config.eos_token);
  return { ...(bosId === undefined ? {} : { bosId }), ...(eosId === undefined ? {} : { eosId }) };
}
