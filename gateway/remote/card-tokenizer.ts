/**
 * The gateway's tokenizer, built from the tokenizer files in the engine's model card with the
 * same classes the engine uses (llama2.c's tokenizer.bin, or Hugging Face tokenizer.json +
 * tokenizer_config.json, written to the cache folder and loaded from there).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadHuggingFaceTokenizer } from '../../model/huggingface/load-huggingface-tokenizer.js';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { ModelCard } from '../../protocol/transport/model-card.js';

export async function tokenizerFromCard(card: ModelCard, cacheDir: string): Promise<Tokenizer> {
  const { tokenizer } = card;
  if (tokenizer.format === 'llama2c') {
    return Llama2cTokenizer.parse(Buffer.from(tokenizer.files['tokenizer.bin'], 'base64'), card.config.vocabSize, 'model card tokenizer.bin');
  }
  const dir = path.join(cacheDir, 'tokenizer');
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(tokenizer.files)) {
    if (content !== undefined) await writeFile(path.join(dir, name), Buffer.from(content, 'base64'));
  }
  return loadHuggingFaceTokenizer(dir);
}
