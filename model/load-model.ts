/**
 * The one entry point for loading a model from disk, whatever its format.
 *
 * - a llama2.c `.bin` checkpoint (tokenizer found next to it);
 * - a folder holding exactly one llama2.c checkpoint plus its tokenizer
 *   (e.g. ../shared/models/stories260K);
 * - a Hugging Face folder (recognised by its `config.json`).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelDescription } from './model-description.js';
import { ModelLoadError } from './model-errors.js';
import { loadLlama2cModel } from './llama2c/load-llama2c-model.js';

/** The repository root (one level above model/). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Tokenizer files of the llama2.c format, which also end in `.bin`. */
const llama2cTokenizerName = /^(tok\d+|tokenizer)\.bin$/;

export async function loadModel(modelPath: string): Promise<ModelDescription> {
  let info;
  try {
    info = await stat(modelPath);
  } catch (error) {
    throw new ModelLoadError(modelPath, 'no such file or folder', { cause: error });
  }
  if (info.isFile()) {
    if (!modelPath.endsWith('.bin') || llama2cTokenizerName.test(path.basename(modelPath))) {
      throw new ModelLoadError(modelPath, 'not a model: expected a llama2.c .bin checkpoint or a folder (llama2.c or Hugging Face)');
    }
    return loadLlama2cModel(modelPath);
  }
  if (!info.isDirectory()) throw new ModelLoadError(modelPath, 'neither a file nor a folder');

  const entries = await readdir(modelPath);
  if (entries.includes('config.json')) {
    // Loaded lazily: the Hugging Face path pulls in safetensors and tokenizer libraries that
    // a llama2.c model never needs.
    const { loadHuggingFaceModel } = await import('./huggingface/load-huggingface-model.js');
    return loadHuggingFaceModel(modelPath);
  }
  const checkpoints = entries.filter((name) => name.endsWith('.bin') && !llama2cTokenizerName.test(name)).sort();
  if (checkpoints.length === 0) {
    throw new ModelLoadError(modelPath, 'no model in this folder: expected config.json (Hugging Face) or a llama2.c .bin checkpoint');
  }
  if (checkpoints.length > 1) {
    throw new ModelLoadError(modelPath, `several llama2.c checkpoints (${checkpoints.join(', ')}): pass the path of one of them`);
  }
  return loadLlama2cModel(path.join(modelPath, checkpoints[0]!));
}

/**
 * The model used when none is named: `PERMLLM_MODEL` if set, else ../shared/models/stories260K
 * next to the repository. Throws a ModelLoadError saying how to fix it when that path is absent.
 */
export function defaultModelPath(): string {
  const fromEnv = process.env['PERMLLM_MODEL'];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ModelLoadError(fromEnv, 'PERMLLM_MODEL points to nothing: fix the variable or pass --model PATH');
    return fromEnv;
  }
  const fallback = path.resolve(repoRoot, '../shared/models/stories260K');
  if (!existsSync(fallback)) {
    throw new ModelLoadError(fallback, 'default model not found: set PERMLLM_MODEL or pass --model PATH');
  }
  return fallback;
}
