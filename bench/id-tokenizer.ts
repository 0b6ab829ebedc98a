/**
 * A tokenizer with no text: ids are the tokens. The benchmark feeds token ids straight into
 * the protocol, so a model whose vocabulary was narrowed (narrow-vocabulary.ts) needs a
 * tokenizer only to satisfy the ModelDescription contract.
 */
import type { Tokenizer } from '../model/tokenizer.js';

export class IdTokenizer implements Tokenizer {
  readonly bosId = undefined;
  readonly eosIds: ReadonlySet<number> = new Set();

  constructor(readonly vocabSize: number) {}

  encode(text: string): number[] {
    return text
      .trim()
      .split(/\s+/)
      .filter((t) => t !== '')
      .map((t) => {
        const id = Number(t);
        if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`id tokenizer: "${t}" is not a token id below ${this.vocabSize}`);
        return id;
      });
  }

  decode(ids: readonly number[]): string {
    return ids.join(' ');
  }

  decodeIncrement(previous: readonly number[], ids: readonly number[]): string {
    return (previous.length > 0 && ids.length > 0 ? ' ' : '') + ids.join(' ');
  }

  tokenText(id: number): string {
    return String(id);
  }
}
