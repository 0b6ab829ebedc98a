/**
 * The tokenizer contract shared by the llama2.c and Hugging Face tokenizers. The gateway (P1)
 * is the only party that tokenizes in the private protocol; the engine only publishes the
 * tokenizer files in its model card.
 */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Beginning-of-sequence id, or undefined when the model has none. */
  readonly bosId: number | undefined;
  /** Ids that end generation (EOS, end-of-turn). */
  readonly eosIds: ReadonlySet<number>;
  /** Encodes text; prepends BOS when `addBos` is true and the model has one. */
  encode(text: string, options?: { addBos?: boolean }): number[];
  /** Decodes a whole sequence (special tokens skipped). */
  decode(ids: readonly number[]): string;
  /**
   * Incremental decoding for streaming: returns the text that `ids` adds after `previous`,
   * never splitting a multi-byte UTF-8 character (holds it back until complete).
   */
  decodeIncrement(previous: readonly number[], ids: readonly number[]): string;
  /** The token's surface string, for logprobs output. */
  tokenText(id: number): string;
  /**
   * The exact bytes the token contributes to decoded text (empty for control tokens), for
   * constrained decoding, which walks a grammar over each token's bytes. Tokenizers without it
   * cannot serve structured outputs.
   */
  tokenBytes?(id: number): Uint8Array;
  /**
   * Texts that `encode` turns into added or control tokens when they occur in the input
   * (e.g. "<|eot_id|>", "<|im_start|>", "<tool_call>"). The chat template neutralises them in
   * message contents so that user-typed text stays text. Absent or empty: encode never does.
   */
  readonly controlTexts?: readonly string[];
  /**
   * Encodes `text` as plain text even when it contains control texts (each stays ordinary
   * tokens). Absent: `encode` already treats all text as text.
   */
  encodeLiteral?(text: string): number[];
  /**
   * An upper bound on how many UTF-8 bytes of input text one token can stand for, or undefined
   * when the tokenizer cannot promise one (e.g. a normalizer that may delete characters). A
   * text of B bytes then needs at least ceil(B / maxBytesPerToken) tokens, so a prompt that
   * cannot fit a context window is refused from its length before it is tokenized.
   */
  readonly maxBytesPerToken?: number | undefined;
}

/**
 * The fewest tokens `text` can encode to (0 when the tokenizer gives no bound); cheap, linear
 * in the text, and never more than `tokenizer.encode(text).length`.
 */
export function minimumTokenCount(tokenizer: Tokenizer, text: string): number {
  const perToken = tokenizer.maxBytesPerToken;
  if (perToken === undefined || perToken <= 0) return 0;
  return Math.ceil(Buffer.byteLength(text, 'utf8') / perToken);
}
