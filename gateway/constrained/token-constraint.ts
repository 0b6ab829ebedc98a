/**
 * Constrained decoding on the user's side (P1): before every token, the tokens the grammar
 * does not allow get a large negative addition to P1's own share of the logits, in vocabulary
 * order before the output permutation π_out, the same path as logit_bias (protocol.md,
 * "Sampling"). The engine P0 only ever sees x1 + δ − A with A its fresh Perm mask, so it
 * learns nothing it did not learn without the constraint beyond the statistical shift δ
 * under the mask (|δ| = MASK_VALUE against a mask half-width of 2^26 on logits in the default
 * profile, ≈ 8e-6 statistical distance per element; in a ring-share profile, none).
 *
 * Guarantee: a program is a sequence of segments (a fixed token such as Qwen's `<tool_call>`,
 * or a JSON grammar). A token is allowed when its bytes keep some parse alive and a known way
 * to finish from there fits in the tokens left (one kept for end-of-turn): the known way is the
 * grammar's shortest completion, tokenized (its tokens are themselves allowed). When no free
 * choice fits any more, the constraint follows that tokenized completion token by token. So
 * whenever `max_tokens` covers the shortest valid output, the output is complete and valid,
 * even from a model with random weights. Once complete only end-of-turn is allowed.
 */
import type { LogitConstraint } from '../../sampling/logit-adjustments.js';
import type { JsonByteGrammar, Stack } from './json-byte-grammar.js';
import type { VocabularyIndex } from './vocabulary-index.js';

/**
 * What a disallowed token gets added. Large enough that the sampler never picks one (the
 * sampler ignores tokens more than 60·T below the best, logits stay within ±64 by the mask
 * profile's bound, T ≤ 2), small enough to stay far inside the Perm mask. Never −Infinity:
 * shares must stay finite.
 */
export const MASK_VALUE = -1024;

export type ProgramSegment = { kind: 'token'; id: number } | { kind: 'grammar'; grammar: JsonByteGrammar };

/** Encodes plain text to token ids (the tokenizer's literal encoding). */
export type TextEncoder = (bytes: Uint8Array) => number[] | undefined;

interface Allowed {
  ids: Int32Array;
  /** Tokens of a known completion after each allowed id. */
  finish: Float64Array;
}

/** Per-step cost, for the benchmark and the closing note. */
export interface ConstraintCost {
  steps: number;
  totalMs: number;
  cacheHits: number;
}

/** Masks and completions computed per grammar state, shared by every completion of one request. */
export class MaskCache {
  private readonly map = new Map<string, Allowed>();
  /** Stack key -> a tokenized shortest completion. */
  readonly completions = new Map<string, readonly number[]>();
  constructor(private readonly limit = 64) {}
  get(key: string): Allowed | undefined {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }
  set(key: string, value: Allowed): void {
    this.map.set(key, value);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
    if (this.completions.size > 100_000) this.completions.clear();
  }
}

export class ConstraintViolationError extends Error {
  override readonly name = 'ConstraintViolationError';
}

export class TokenConstraint implements LogitConstraint {
  private segment = 0;
  private stacks: (Stack | null)[] = [];
  private seen = 0;
  /** Tokens still to follow when the budget left no free choice. */
  private plan: number[] | undefined;
  readonly cost: ConstraintCost = { steps: 0, totalMs: 0, cacheHits: 0 };

  constructor(
    private readonly program: readonly ProgramSegment[],
    private readonly vocab: VocabularyIndex,
    private readonly encode: TextEncoder,
    private readonly eosIds: ReadonlySet<number>,
    /** Tokens this completion may generate (the request's max tokens). */
    private readonly maxTokens: number,
    private readonly cache: MaskCache = new MaskCache(),
    /** After the program: only end-of-turn (`end`, structured outputs), or the caller takes over (`free`, a tool call inside free text). */
    private readonly then: 'end' | 'free' = 'end',
  ) {
    this.enterSegment(0);
  }

  /** Tokens taken in so far. */
  get consumed(): number {
    return this.seen;
  }

  /** True once the whole program has been generated. */
  get complete(): boolean {
    return this.segment >= this.program.length;
  }

  /** Takes in the tokens sampled since the last call; stops at the token that completes the program. */
  advance(generated: readonly number[]): void {
    for (; this.seen < generated.length && !this.complete; this.seen++) this.accept(generated[this.seen]!);
    if (this.complete && this.seen < generated.length && this.then === 'end') this.accept(generated[this.seen]!); // throws: nothing may follow
  }

  nextDelta(generated: readonly number[], vocabSize: number = this.vocab.vocabSize): Float64Array {
    const began = performance.now();
    this.advance(generated);
    if (vocabSize < this.vocab.vocabSize) throw new RangeError(`constraint: logits have ${vocabSize} entries, fewer than the tokenizer's ${this.vocab.vocabSize} ids`);
    // Ids past the tokenizer's (padding rows of the model) stay masked.
    const delta = new Float64Array(vocabSize).fill(MASK_VALUE);
    const left = this.maxTokens - generated.length; // tokens left, this one included
    const current = this.program[this.segment];
    if (current === undefined) {
      for (const id of this.eosIds) if (id < delta.length) delta[id] = 0;
    } else if (current.kind === 'token') {
      delta[current.id] = 0;
    } else if (this.plan) {
      delta[this.plan[0]!] = 0;
    } else {
      const allowed = this.allowed(current.grammar);
      if (allowed.ids.length === 0) throw new ConstraintViolationError('no token of this vocabulary continues the output');
      // Room after this token: what is left, minus this token, the later segments and end-of-turn.
      const room = left - 1 - this.restMin(this.segment + 1) - (this.then === 'end' ? 1 : 0);
      let any = false;
      for (let k = 0; k < allowed.ids.length; k++) {
        if (allowed.finish[k]! <= room) {
          delta[allowed.ids[k]!] = 0;
          any = true;
        }
      }
      if (!any) {
        const known = this.completion(current.grammar, this.stacks);
        if (known && known.length > 0 && known.length <= room + 1) {
          // No free choice fits: follow the known completion to the end of the segment.
          this.plan = [...known];
          delta[known[0]!] = 0;
        } else {
          // The budget was already too small for any valid completion: stay valid while it lasts.
          for (const id of allowed.ids) delta[id] = 0;
        }
      }
    }
    this.cost.steps++;
    this.cost.totalMs += performance.now() - began;
    return delta;
  }

  /** Advances over a sampled token; a token the mask forbade is a bug (or a corrupted share) and ends the completion. */
  private accept(id: number): void {
    const current = this.program[this.segment];
    if (current === undefined) throw new ConstraintViolationError(`token ${id} after the structured output was complete`);
    if (current.kind === 'token') {
      if (id !== current.id) throw new ConstraintViolationError(`token ${id} where the structured output needs token ${current.id}`);
      this.enterSegment(this.segment + 1);
      return;
    }
    if (this.plan) {
      if (id !== this.plan[0]) throw new ConstraintViolationError(`token ${id} where the structured output must close with token ${this.plan[0]}`);
      this.plan.shift();
    }
    const bytes = this.vocab.bytes[id] ?? new Uint8Array(0);
    let stacks = this.stacks;
    for (const byte of bytes) {
      stacks = feedAll(current.grammar, stacks, byte);
      if (stacks.length === 0) break;
    }
    if (stacks.length === 0 || bytes.length === 0) throw new ConstraintViolationError(`token ${id} does not continue the structured output`);
    this.stacks = stacks;
    if (stacks.some((s) => current.grammar.isComplete(s))) this.enterSegment(this.segment + 1);
  }

  private enterSegment(index: number): void {
    this.segment = index;
    this.plan = undefined;
    const next = this.program[index];
    if (next?.kind === 'grammar') this.stacks = next.grammar.initial();
  }

  /** Tokens of known completions of the segments from `from` on. */
  private restMin(from: number): number {
    let sum = 0;
    for (const seg of this.program.slice(from)) sum += seg.kind === 'token' ? 1 : (this.completion(seg.grammar, seg.grammar.initial())?.length ?? Infinity);
    return sum;
  }

  /** The shortest tokenized completion among the stacks (undefined: none can be tokenized). */
  private completion(grammar: JsonByteGrammar, stacks: readonly (Stack | null)[]): readonly number[] | undefined {
    let best: readonly number[] | undefined;
    for (const stack of stacks) {
      const key = `${grammar.root.id}#${grammar.key(stack)}`;
      let ids = this.cache.completions.get(key);
      if (ids === undefined) {
        ids = this.tokenize(grammar.shortestCompletion(stack)) ?? [];
        this.cache.completions.set(key, ids);
      }
      if ((ids.length > 0 || grammar.isComplete(stack)) && (best === undefined || ids.length < best.length)) best = ids;
    }
    return best;
  }

  /** Token ids whose bytes are exactly `bytes`, preferring the tokenizer's encoding, else one token per byte. */
  private tokenize(bytes: Uint8Array): number[] | undefined {
    if (bytes.length === 0) return [];
    const encoded = this.encode(bytes);
    if (encoded && Buffer.compare(Buffer.concat(encoded.map((id) => this.vocab.bytes[id] ?? new Uint8Array(0))), bytes) === 0) return encoded;
    const perByte: number[] = [];
    for (const byte of bytes) {
      const id = this.vocab.byteToken(byte);
      if (id === undefined) return undefined;
      perByte.push(id);
    }
    return perByte;
  }

  private allowed(grammar: JsonByteGrammar): Allowed {
    const key = `${this.segment}:${this.stacks.map((s) => grammar.key(s)).sort().join('|')}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cost.cacheHits++;
      return hit;
    }
    const ids: number[] = [];
    const finish: number[] = [];
    this.vocab.walk<(Stack | null)[]>(
      this.stacks,
      (stacks, byte) => {
        const next = feedAll(grammar, stacks, byte);
        return next.length === 0 ? undefined : next;
      },
      (id, stacks) => {
        ids.push(id);
        finish.push(this.completion(grammar, stacks)?.length ?? Infinity);
      },
    );
    const allowed = { ids: Int32Array.from(ids), finish: Float64Array.from(finish) };
    this.cache.set(key, allowed);
    return allowed;
  }
}

/** Every stack after `byte`, duplicates removed. */
function feedAll(grammar: JsonByteGrammar, stacks: readonly (Stack | null)[], byte: number): (Stack | null)[] {
  const out: Stack[] = [];
  for (const s of stacks) grammar.feed(s, byte, out);
  if (out.length <= 1) return out;
  const seen = new Set<string>();
  return out.filter((s) => {
    const k = grammar.key(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Free text until the model writes `trigger` (e.g. Qwen's `<tool_call>` token), then the
 * program (the call's JSON by the tool's schema, then the closing token), then free text again:
 * tool calls under `tool_choice: "auto"` get schema-valid arguments without forcing a call.
 */
export class TriggeredConstraint implements LogitConstraint {
  private inner: TokenConstraint | undefined;
  /** Where the inner program's tokens begin in `generated`. */
  private innerStart = 0;
  /** Tokens scanned for the trigger so far. */
  private scanned = 0;

  constructor(
    private readonly trigger: number,
    private readonly start: (maxTokens: number) => TokenConstraint,
    private readonly maxTokens: number,
  ) {}

  nextDelta(generated: readonly number[], vocabSize: number): Float64Array | undefined {
    for (;;) {
      if (this.inner) {
        const own = generated.slice(this.innerStart);
        this.inner.advance(own);
        if (!this.inner.complete) return this.inner.nextDelta(own, vocabSize);
        this.scanned = this.innerStart + this.inner.consumed;
        this.inner = undefined;
      }
      while (this.scanned < generated.length && generated[this.scanned] !== this.trigger) this.scanned++;
      if (this.scanned >= generated.length) return undefined;
      this.innerStart = ++this.scanned;
      this.inner = this.start(this.maxTokens - this.innerStart);
    }
  }
}
