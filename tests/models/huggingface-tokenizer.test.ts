/**
 * Real Hugging Face tokenizers (Llama 3, Qwen3, and our 32k restriction of Llama 3) behind
 * the Tokenizer contract: exact round trips on awkward text, streaming that equals a full
 * decode and never emits half a character, BOS / EOS / chat template from the config files.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HuggingFaceTokenizer, tokenizerConfigSchema, tokenizerJsonSchema } from '../../model/huggingface/huggingface-tokenizer.js';
import { loadHuggingFaceTokenizer } from '../../model/huggingface/load-huggingface-tokenizer.js';
import { syntheticTokenizerFiles, type SyntheticTokenizerName } from '../../model/synthetic/synthetic-tokenizer-files.js';
import { minimumTokenCount } from '../../model/tokenizer.js';
import { scratchDir } from './model-dirs.js';
import { checkBound } from './token-bound.js';

const TRICKY = [
  'Hello world',
  ' leading space',
  'trailing space ',
  'many    spaces   inside',
  '\ttabs\tand\nnewlines\n\n\nand\r\nCRLF',
  "don't WON'T it's I'M we'll",
  'Numbers: 1234567890, 3.14159, -42, 1e-9',
  'naïve café résumé Ærøskøbing Straße',
  'Emoji 😀🎉 family 👨‍👩‍👧 flag 🇫🇷 skin 👍🏽',
  '中文字符和标点。日本語のテキスト、한국어 텍스트',
  'العربية עברית हिन्दी ไทย',
  'function f(x) { return x ** 2; } // code\n    indented();',
  '<html><body class="a">&amp;</body></html>',
  '!!!???...---___ ~`@#$%^&*()[]{}|\\/',
  '\u00a0non-breaking\u2009thin\u200bzero-width',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝓂𝒶𝓉𝒽 ∀x∈ℝ: x² ≥ 0',
  'a',
  '',
];

const tokenizers = new Map<SyntheticTokenizerName, HuggingFaceTokenizer>();
let work: string;

beforeAll(async () => {
  work = await scratchDir('hf-tokenizer');
  for (const name of ['llama3', 'qwen3', 'llama3-32k'] as const) {
    const files = await syntheticTokenizerFiles(name);
    tokenizers.set(
      name,
      new HuggingFaceTokenizer(
        tokenizerJsonSchema.parse(JSON.parse(files.tokenizerJson)),
        tokenizerConfigSchema.parse(JSON.parse(files.tokenizerConfigJson)),
      ),
    );
  }
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function tok(name: SyntheticTokenizerName): HuggingFaceTokenizer {
  return tokenizers.get(name)!;
}

describe.each(['llama3', 'qwen3', 'llama3-32k'] as const)('%s tokenizer', (name) => {
  it('decode(encode(x)) == x on tricky strings', () => {
    const t = tok(name);
    for (const text of TRICKY) {
      const ids = t.encode(text, { addBos: false });
      for (const id of ids) expect(id).toBeLessThan(t.vocabSize);
      expect(t.decode(ids), JSON.stringify(text)).toBe(text);
      // With BOS: the same text (BOS is special and skipped).
      expect(t.decode(t.encode(text, { addBos: true }))).toBe(text);
    }
  });

  it('decodeIncrement over a stream equals decode of the whole, never emitting half a character', () => {
    const t = tok(name);
    const text = TRICKY.join(' | ');
    const ids = t.encode(text, { addBos: true });
    for (const step of [1, 3]) {
      let streamed = '';
      for (let i = 0; i < ids.length; i += step) {
        const chunk = t.decodeIncrement(ids.slice(0, i), ids.slice(i, i + step));
        expect(chunk).not.toContain('\uFFFD');
        streamed += chunk;
      }
      expect(streamed).toBe(t.decode(ids));
      expect(streamed).toBe(text);
    }
  });

  it('holds back a character split across tokens until it is complete', () => {
    const t = tok(name);
    // Find a character that this vocabulary splits into several tokens.
    const candidates = ['😀', '🦙', '𝔘', '👨‍👩‍👧', '㊙', '龘'];
    const split = candidates.map((c) => ({ c, ids: t.encode(c, { addBos: false }) })).find((x) => x.ids.length > 1 && t.decode(x.ids.slice(0, 1)).includes('\uFFFD'));
    expect(split, 'some character should span several byte-level tokens').toBeDefined();
    const { c, ids } = split!;
    expect(t.decodeIncrement([], ids.slice(0, 1))).toBe('');
    expect(t.decodeIncrement(ids.slice(0, 1), ids.slice(1))).toBe(c);
  });
});

describe('special tokens', () => {
  it('llama3: BOS by default, EOS set has <|end_of_text|> and <|eot_id|>, chat template', () => {
    const t = tok('llama3');
    expect(t.vocabSize).toBe(128256);
    expect(t.bosId).toBe(128000);
    expect(t.encode('Hi')[0]).toBe(128000);
    // <|end_of_text|> (eos_token) and <|eot_id|> (end of turn); this is Llama 3.0's file, without <|eom_id|>.
    expect(t.eosIds).toEqual(new Set([128001, 128009]));
    expect(t.chatTemplate).toContain('<|start_header_id|>');
    expect(t.tokenText(128009)).toBe('<|eot_id|>');
    expect(t.tokenText(t.encode(' world', { addBos: false })[0]!)).toBe(' world');
    expect(t.encode('<|eot_id|>', { addBos: false })).toEqual([128009]);
    expect(t.decode([128000, 9906, 128009])).toBe('Hello');
  });

  it('qwen3: no BOS, EOS set has <|im_end|> and <|endoftext|>', () => {
    const t = tok('qwen3');
    expect(t.bosId).toBeUndefined();
    expect(t.encode('Hello', { addBos: true })).toEqual(t.encode('Hello', { addBos: false }));
    expect(t.eosIds).toEqual(new Set([151645, 151643]));
    expect(t.chatTemplate).toContain('<|im_start|>');
  });

  it('llama3-32k: 32,000 ids with the special tokens moved to 31744..31999', () => {
    const t = tok('llama3-32k');
    expect(t.vocabSize).toBe(32000);
    expect(t.bosId).toBe(31744);
    expect(t.eosIds).toEqual(new Set([31745, 31753])); // <|end_of_text|>, <|eot_id|>
    expect(t.tokenText(31753)).toBe('<|eot_id|>');
    // Same pre-tokenisation as llama3; only merges into ids >= 31744 are gone, so it is never shorter.
    const text = TRICKY.join(' ');
    expect(t.encode(text).length).toBeGreaterThanOrEqual(tok('llama3').encode(text).length);
  });

  it('reads a template list (taking "default"), chat_template.jinja and generation_config.json EOS ids', async () => {
    const files = await syntheticTokenizerFiles('qwen3');
    const config = JSON.parse(files.tokenizerConfigJson) as Record<string, unknown>;
    const dir = path.join(work, 'templates');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'tokenizer.json'), files.tokenizerJson);
    await writeFile(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ ...config, eos_token: '<|endoftext|>', chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }),
    );
    await writeFile(path.join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, 151643, 7] }));
    const t = await loadHuggingFaceTokenizer(dir);
    expect(t.chatTemplate).toBe('D');
    expect(t.eosIds).toEqual(new Set([151643, 151645, 7]));

    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: undefined }));
    await writeFile(path.join(dir, 'chat_template.jinja'), '{{ messages }}');
    expect((await loadHuggingFaceTokenizer(dir)).chatTemplate).toBe('{{ messages }}');
  });
});

describe('maxBytesPerToken (the gateway refuses over-long prompts from their byte length)', () => {
  it('bounds a byte-level tokenizer without a normalizer (Llama 3)', () => {
    checkBound(tok('llama3'));
  });

  it('gives no bound when the tokenizer has a normalizer (Qwen: NFC)', () => {
    expect(tok('qwen3').maxBytesPerToken).toBeUndefined();
    expect(minimumTokenCount(tok('qwen3'), 'x'.repeat(10_000))).toBe(0);
  });
});
