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
}
