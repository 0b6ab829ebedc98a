/**
 * Reads the tokenizer files of a Hugging Face model folder: `tokenizer.json` (required),
 * `tokenizer_config.json` (BOS/EOS, add_bos_token, chat template), and when present
 * `chat_template.jinja` (newer transformers keep the template there) and
 * `generation_config.json` (more EOS ids).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from '../model-errors.js';
import { HuggingFaceTokenizer, tokenizerConfigSchema, tokenizerJsonSchema } from './huggingface-tokenizer.js';

const generationConfigSchema = z
  .object({ eos_token_id: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()), z.null()]).optional() })
  .passthrough();

export async function loadHuggingFaceTokenizer(dir: string): Promise<HuggingFaceTokenizer> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const tokenizerJson = await readJsonFile(tokenizerPath, true);
  const parsedTokenizer = tokenizerJsonSchema.safeParse(tokenizerJson);
  if (!parsedTokenizer.success) throw new ModelLoadError(tokenizerPath, describeIssues(parsedTokenizer.error));

  const configPath = join(dir, 'tokenizer_config.json');
  const parsedConfig = tokenizerConfigSchema.safeParse((await readJsonFile(configPath, false)) ?? {});
  if (!parsedConfig.success) throw new ModelLoadError(configPath, describeIssues(parsedConfig.error));
  const config = parsedConfig.data;
  if (config.chat_template == null) {
    const template = await readOptional(join(dir, 'chat_template.jinja'));
    if (template !== undefined) config.chat_template = template;
  }

  const generationPath = join(dir, 'generation_config.json');
  const generation = generationConfigSchema.safeParse((await readJsonFile(generationPath, false)) ?? {});
  if (!generation.success) throw new ModelLoadError(generationPath, describeIssues(generation.error));
  const eos = generation.data.eos_token_id;
  const extraEos = eos == null ? [] : Array.isArray(eos) ? eos : [eos];

  try {
    return new HuggingFaceTokenizer(parsedTokenizer.data, config, extraEos);
  } catch (error) {
    throw new ModelLoadError(tokenizerPath, `cannot build the tokenizer: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads and parses a JSON file; a missing optional file gives undefined. */
export async function readJsonFile(path: string, required: boolean): Promise<unknown> {
  const text = await readOptional(path);
  if (text === undefined) {
    if (required) throw new ModelLoadError(path, 'file is missing');
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelLoadError(path, `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(path, `cannot read: ${(error as Error).message}`, { cause: error });
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
