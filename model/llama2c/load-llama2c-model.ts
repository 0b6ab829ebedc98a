/**
 * A llama2.c model: the checkpoint plus its tokenizer file, found next to it when not given.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ModelDescription } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';
import { readLlama2cCheckpoint, readLlama2cHeader } from './llama2c-checkpoint.js';
import { Llama2cTokenizer } from './llama2c-tokenizer.js';

/** Tokenizer file names llama2.c uses, in the order they are tried. */
export function llama2cTokenizerCandidates(checkpoint: string, vocabSize: number): string[] {
  const dir = path.dirname(checkpoint);
  return [path.join(dir, `tok${vocabSize}.bin`), path.join(dir, 'tokenizer.bin')];
}

/** The tokenizer file next to `checkpoint` (`tok<vocab>.bin`, else `tokenizer.bin`), or undefined. */
export async function findLlama2cTokenizer(checkpoint: string, vocabSize: number): Promise<string | undefined> {
  for (const candidate of llama2cTokenizerCandidates(checkpoint, vocabSize)) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // not there: try the next name
    }
  }
  return undefined;
}

/**
 * Loads a llama2.c `.bin` checkpoint. `tokenizerPath` is optional: without it the tokenizer is
 * looked up next to the checkpoint; a ModelLoadError lists the names tried when none exists.
 */
export async function loadLlama2cModel(checkpoint: string, options: { tokenizerPath?: string } = {}): Promise<ModelDescription> {
  const header = await readLlama2cHeader(checkpoint);
  const tokenizerPath = options.tokenizerPath ?? (await findLlama2cTokenizer(checkpoint, header.vocabSize));
  if (!tokenizerPath) {
    const tried = llama2cTokenizerCandidates(checkpoint, header.vocabSize).map((p) => path.basename(p));
    throw new ModelLoadError(checkpoint, `no tokenizer next to the checkpoint (looked for ${tried.join(', ')} in ${path.dirname(checkpoint)})`);
  }
  const tokenizer = await Llama2cTokenizer.load(tokenizerPath, header.vocabSize);
  const { config, weights } = await readLlama2cCheckpoint(checkpoint);
  return {
    id: path.basename(checkpoint).replace(/\.bin$/, ''),
    source: { path: checkpoint, format: 'llama2c', dtype: 'f32' },
    config,
    weights,
    tokenizer,
  };
}
