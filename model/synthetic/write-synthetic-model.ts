/**
 * Writes a synthetic model as a Hugging Face folder (config.json, safetensors, the real
 * tokenizer files, and synthetic.json recording spec and seed), generating one tensor at a
 * time so that even the 8B-layer preset never has to sit in memory whole.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeHuggingFaceTensors } from '../huggingface/write-huggingface-folder.js';
import { tensorBytes } from '../huggingface/safetensors-writer.js';
import {
  resolveSyntheticSpec,
  syntheticModelConfig,
  syntheticParameterCount,
  type SyntheticPresetName,
  type SyntheticSpecInput,
} from './synthetic-spec.js';
import { syntheticTokenizerFiles } from './synthetic-tokenizer-files.js';
import { syntheticTensors } from './synthetic-weights.js';

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
  const config = syntheticModelConfig(spec);
  const tensors = syntheticTensors(spec, seed);
  const files = await syntheticTokenizerFiles(spec.tokenizer);
  const { bosId, eosId } = specialIds(files.tokenizerJson, files.tokenizerConfigJson);
  const totalBytes = tensors.reduce((sum, t) => sum + tensorBytes(t.shape, spec.dtype), 0);
  const shards = options.shards ?? Math.min(tensors.length, Math.max(1, Math.ceil(totalBytes / MAX_SHARD_BYTES)));
  await writeHuggingFaceTensors(dir, config, tensors, {
    dtype: spec.dtype,
    shards,
    tokenizerFiles: files,
    bosTokenId: bosId,
    eosTokenIds: eosId === undefined ? [] : [eosId],
  });
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
