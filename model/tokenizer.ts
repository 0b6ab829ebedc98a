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
}
