/**
 * A Hugging Face `tokenizer.json` + `tokenizer_config.json` pair behind our `Tokenizer`
 * contract, using @huggingface/tokenizers for the actual encoding and decoding.
 *
 * Choices (and why):
 * - BOS is added by us, never by the file's post-processor (we always encode with
 *   `add_special_tokens: false`), so `encode(text, {addBos})` means the same for every model.
 *   The default follows `add_bos_token` in tokenizer_config.json, else "yes when there is a
 *   BOS token".
 * - Decoding skips special tokens and never applies `clean_up_tokenization_spaces` (a lossy
 *   BERT-era rewrite of " ." → "." that breaks decode(encode(x)) = x and streaming).
 * - Special tokens written in the text (e.g. "<|eot_id|>") are recognised as such, which the
 *   chat template needs; callers that tokenize untrusted text must neutralise them first.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import type { Tokenizer } from '../tokenizer.js';

/** End-of-turn tokens of common chat models; added to the EOS set when the vocabulary has them as special tokens. */
const END_OF_TURN_TOKENS = ['<|eot_id|>', '<|eom_id|>', '<|im_end|>', '<|endoftext|>', '<|end_of_text|>', '<end_of_turn>', '<|end|>'];

/** How many earlier tokens decodeIncrement re-decodes for context (≥ 4 bytes of one UTF-8 character). */
const INCREMENT_CONTEXT = 8;

const REPLACEMENT = '\uFFFD';

/** A special token in tokenizer_config.json: a string, an AddedToken object, or null. */
const tokenValue = z.union([z.string(), z.object({ content: z.string() }).passthrough(), z.null()]).optional();

export const tokenizerConfigSchema = z
  .object({
    bos_token: tokenValue,
    eos_token: tokenValue,
    add_bos_token: z.boolean().optional(),
    chat_template: z
      .union([z.string(), z.array(z.object({ name: z.string(), template: z.string() })), z.null()])
      .optional(),
  })
  .passthrough();

export type TokenizerConfigJson = z.infer<typeof tokenizerConfigSchema>;

export const tokenizerJsonSchema = z
  .object({
    model: z.object({ type: z.string().optional(), vocab: z.unknown() }).passthrough(),
    added_tokens: z
      .array(z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().optional() }).passthrough())
      .default([]),
  })
  .passthrough();

export type TokenizerJson = z.infer<typeof tokenizerJsonSchema>;

export class HuggingFaceTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosIds: ReadonlySet<number>;
  /** Whether `encode` adds BOS when the caller does not say. */
  readonly addBosByDefault: boolean;
  /** The chat template named "default" (or the only one), if any. */
  readonly chatTemplate: string | undefined;
  /** Every added token's text (special or not): encode() matches these anywhere in the input. */
  readonly controlTexts: readonly string[];
  /**
   * Only without a normalizer (which may shrink or delete text): then one vocabulary entry of
   * u UTF-16 units stands for at most 4u input bytes (byte-level alphabets: one unit per byte;
   * sentencepiece pieces: at most 3 bytes per unit, 4 per surrogate pair).
   */
  readonly maxBytesPerToken: number | undefined;
  private readonly hf: HfTokenizer;
  private readonly specialIds: ReadonlySet<number>;
  private readonly addedIds: ReadonlySet<number>;
  /** Byte-level BPE (GPT-2 style): token strings are bytes through the byte-to-unicode table. */
  private readonly byteLevel: boolean;
  private byteTable: Uint8Array[] | undefined;

  /**
   * @param tokenizerJson parsed tokenizer.json (validated with `tokenizerJsonSchema`)
   * @param tokenizerConfig parsed tokenizer_config.json (validated with `tokenizerConfigSchema`)
   * @param extraEosIds more ids that end generation (e.g. generation_config.json's eos_token_id)
   */
  constructor(tokenizerJson: TokenizerJson, tokenizerConfig: TokenizerConfigJson, extraEosIds: readonly number[] = []) {
    this.hf = new HfTokenizer(tokenizerJson, tokenizerConfig);
    let maxId = -1;
    let longest = 1;
    for (const [piece, id] of this.hf.get_vocab(true)) {
      maxId = Math.max(maxId, id);
      longest = Math.max(longest, piece.length);
    }
    this.vocabSize = maxId + 1;
    const normalizer = (tokenizerJson as { normalizer?: unknown }).normalizer;
    this.maxBytesPerToken = normalizer === null || normalizer === undefined ? 4 * longest : undefined;
    this.specialIds = new Set(tokenizerJson.added_tokens.filter((t) => t.special === true).map((t) => t.id));
    this.addedIds = new Set(tokenizerJson.added_tokens.map((t) => t.id));
    this.controlTexts = Object.freeze([...new Set(tokenizerJson.added_tokens.map((t) => t.content).filter((c) => c.length > 0))]);
    this.byteLevel = JSON.stringify(tokenizerJson['decoder'] ?? null).includes('"ByteLevel"');

    const bos = tokenContent(tokenizerConfig.bos_token);
    this.bosId = bos === undefined ? undefined : this.hf.token_to_id(bos);
    this.addBosByDefault = this.bosId !== undefined && (tokenizerConfig.add_bos_token ?? true);

    const eos = new Set<number>(extraEosIds);
    const eosToken = tokenContent(tokenizerConfig.eos_token);
    const eosId = eosToken === undefined ? undefined : this.hf.token_to_id(eosToken);
    if (eosId !== undefined) eos.add(eosId);
    for (const content of END_OF_TURN_TOKENS) {
      const id = this.hf.token_to_id(content);
      if (id !== undefined && this.specialIds.has(id)) eos.add(id);
    }
    this.eosIds = eos;

    const template = tokenizerConfig.chat_template;
    this.chatTemplate = typeof template === 'string'
      ? template
      : Array.isArray(template)
        ? (template.find((t) => t.name === 'default') ?? (template.length === 1 ? template[0] : undefined))?.template
        : undefined;
  }

  encode(text: string, options?: { addBos?: boolean }): number[] {
    const ids = this.hf.encode(text, { add_special_tokens: false }).ids;
    const addBos = options?.addBos ?? this.addBosByDefault;
    return addBos && this.bosId !== undefined ? [this.bosId, ...ids] : ids;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.hf.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  decodeIncrement(previous: readonly number[], ids: readonly number[]): string {
    if (ids.length === 0) return '';
    // Re-decode a little context so that byte-level pieces of one character, leading-space
    // rules and the like come out as in a full decode. Widen the context while it starts in
    // the middle of a character (its decode then begins with U+FFFD).
    let start = Math.max(0, previous.length - INCREMENT_CONTEXT);
    while (start > 0 && this.decode(previous.slice(start)).startsWith(REPLACEMENT)) start--;
    const context = previous.slice(start);
    const before = withoutPending(this.decode(context));
    const after = withoutPending(this.decode([...context, ...ids]));
    if (after.startsWith(before)) return after.slice(before.length);
    // A decoder whose output is not prefix-stable (rare); fall back to the whole sequence.
    const whole = withoutPending(this.decode([...previous, ...ids]));
    return whole.slice(withoutPending(this.decode(previous)).length);
  }

  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) return '';
    return this.hf.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /**
   * Plain-text encoding: every occurrence of an added token's text is split after its first
   * character, so the matcher of added tokens (which needs the whole text) never fires, and
   * the text round-trips through decode unchanged.
   */
  encodeLiteral(text: string): number[] {
    const ids: number[] = [];
    let rest = text;
    for (;;) {
      let at = -1;
      let found = '';
      for (const control of this.controlTexts) {
        const i = rest.indexOf(control);
        if (i >= 0 && (at < 0 || i < at || (i === at && control.length > found.length))) {
          at = i;
          found = control;
        }
      }
      if (at < 0) break;
      // Text before it, then its first code point alone, then the remainder goes round again.
      const head = rest.slice(0, at + (found.codePointAt(0)! > 0xffff ? 2 : 1));
      if (head.length > 0) ids.push(...this.hf.encode(head, { add_special_tokens: false }).ids);
      rest = rest.slice(head.length);
    }
    if (rest.length > 0) ids.push(...this.hf.encode(rest, { add_special_tokens: false }).ids);
    return ids;
  }

  /**
   * The bytes a token adds to decoded text. Byte-level BPE: the token string mapped back
   * through GPT-2's byte-to-unicode table. SentencePiece-style vocabularies: "▁" is a space and
   * `<0xXX>` a raw byte. Added tokens (special or not) count as control tokens: no bytes.
   */
  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary [0, ${this.vocabSize})`);
    if (this.addedIds.has(id)) return new Uint8Array(0);
    const piece = this.hf.id_to_token(id);
    if (piece === undefined) return new Uint8Array(0);
    if (this.byteLevel) {
      const table = (this.byteTable ??= byteLevelDecodeTable());
      const out = new Uint8Array(piece.length);
      let n = 0;
      for (const ch of piece) {
        const byte = table[ch.codePointAt(0)!];
        if (byte === undefined) return Buffer.from(piece, 'utf8'); // not a byte-level piece after all
        out[n++] = byte[0]!;
      }
      return out.subarray(0, n);
    }
    const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
    if (hex) return Uint8Array.of(Number.parseInt(hex[1]!, 16));
    return Buffer.from(piece.replaceAll('\u2581', ' '), 'utf8');
  }

  /** The token's string in the vocabulary (e.g. "Ġworld"), or undefined. */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }
}

/**
 * Holds back trailing U+FFFD: an incomplete UTF-8 sequence at the end decodes to it, and the
 * next token may complete the character. (A genuine U+FFFD at the very end of a stream is
 * therefore only emitted once more text follows.)
 */
function withoutPending(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === REPLACEMENT) end--;
  return text.slice(0, end);
}

/**
 * GPT-2's byte-to-unicode table inverted: code point -> [byte]. Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 upwards in byte order.
 */
function byteLevelDecodeTable(): Uint8Array[] {
  const table: Uint8Array[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[printable ? b : next++] = Uint8Array.of(b);
  }
  return table;
}

function tokenContent(value: TokenizerConfigJson['bos_token']): string | undefined {
  if (value == null) return undefined;
  return typeof value === 'string' ? value : value.content;
}
