/**
 * `tool_choice: "auto"` for tool syntaxes where a call is the whole reply (Llama 3.1's JSON
 * convention, tool-syntax.ts `json`: the reply, trimmed, is one `{"name": ..., "parameters": ...}`
 * object). The model decides freely between text and a call; the moment it decides for a call
 * (its first non-whitespace byte is `{`), the call is held to the tools' schemas from that token
 * to the end of the reply, exactly as `required` holds it from the first token. Like every
 * constraint, it is added to P1's own logit share before the output permutation
 * (token-constraint.ts), so the engine learns nothing about the tools or the choice.
 *
 * Decision steps (everything generated so far is whitespace): a token whose bytes, after leading
 * whitespace, start with `{` is allowed only when it is exactly how the call grammar may begin
 * (no leading whitespace: the call's program starts at that token); every other token is free.
 * After a text token the reply is free text; after a call token the call program runs to its
 * end, then only end-of-turn.
 */
import type { LogitConstraint } from '../../sampling/logit-adjustments.js';
import type { StructuredOutput } from './structured-output.js';
import { MASK_VALUE, type TokenConstraint } from './token-constraint.js';
import type { VocabularyIndex } from './vocabulary-index.js';

const OPEN_BRACE = 0x7b;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** Per vocabulary: 0 = whitespace only (or empty), 1 = text, 2 = starts a call (`{` after optional whitespace). */
const kinds = new WeakMap<VocabularyIndex, Uint8Array>();

function tokenKinds(vocab: VocabularyIndex): Uint8Array {
  let out = kinds.get(vocab);
  if (!out) {
    out = new Uint8Array(vocab.vocabSize);
    for (let id = 0; id < vocab.vocabSize; id++) {
      const bytes = vocab.bytes[id] ?? new Uint8Array(0);
      let i = 0;
      while (i < bytes.length && isSpace(bytes[i]!)) i++;
      out[id] = i === bytes.length ? 0 : bytes[i] === OPEN_BRACE ? 2 : 1;
    }
    kinds.set(vocab, out);
  }
  return out;
}

export class LeadingCallConstraint implements LogitConstraint {
  private decided: 'text' | 'call' | undefined;
  /** The call's constraint and the position of its first token (while deciding: the candidate for this step). */
  private call: { constraint: TokenConstraint; start: number } | undefined;

  constructor(
    private readonly output: StructuredOutput,
    private readonly vocab: VocabularyIndex,
    private readonly eosIds: ReadonlySet<number>,
    private readonly maxTokens: number,
  ) {}

  nextDelta(generated: readonly number[], vocabSize: number): Float64Array | undefined {
    const kind = tokenKinds(this.vocab);
    if (this.decided === undefined && this.call && generated.length > this.call.start) {
      const first = generated[this.call.start]!;
      const k = this.eosIds.has(first) ? 1 : (kind[first] ?? 1);
      if (k === 2) this.decided = 'call';
      else if (k === 1) this.decided = 'text';
      else this.call = undefined; // whitespace: still deciding
    }
    if (this.decided === 'text') return undefined;
    if (this.decided === 'call') return this.call!.constraint.nextDelta(generated.slice(this.call!.start), vocabSize);
    // Deciding: the call grammar's mask, over the tokens that would start a call.
    const start = generated.length;
    const constraint = this.output.constraint(this.maxTokens - start);
    this.call = { constraint, start };
    const grammar = constraint.nextDelta([], vocabSize);
    const delta = new Float64Array(vocabSize);
    for (let id = 0; id < vocabSize; id++) {
      if (id >= this.vocab.vocabSize) delta[id] = MASK_VALUE; // padding rows
      else if (kind[id] === 2 && !this.eosIds.has(id)) delta[id] = grammar[id]!;
    }
    return delta;
  }
}
