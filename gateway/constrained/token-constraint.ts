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
 * or a JSON grammar); a token is allowed when its bytes keep some parse alive and the fewest
 * bytes that then complete the program fit in the tokens left, one kept for end-of-turn (every
 * byte has a token of its own in byte-level BPE and byte-fallback SentencePiece vocabularies,
 * so a byte needs at most a token). Once complete only end-of-turn is allowed. So whenever
 * `max_tokens` covers the shortest valid output, the output is complete and valid.
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

interface Allowed {
  ids: Int32Array;
  /** Fewest bytes left in this grammar segment after each allowed id. */
  mins: Float64Array;
}

/** Per-step cost, for the benchmark and the closing note. */
export interface ConstraintCost {
  steps: number;
  totalMs: number;
  cacheHits: number;
}

/** Masks computed per (segment, grammar state), shared by every completion of one request. */
export class MaskCache {
  private readonly map = new Map<string, Allowed>();
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
  }
}

export class ConstraintViolationError extends Error {
  override readonly name = 'ConstraintViolationError';
}

export class TokenConstraint implements LogitConstraint {
  private segment = 0;
  private stacks: (Stack | null)[] = [];
  private seen = 0;
  readonly cost: ConstraintCost = { steps: 0, totalMs: 0, cacheHits: 0 };

  constructor(
    private readonly program: readonly ProgramSegment[],
    private readonly vocab: VocabularyIndex,
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

  /** Takes in the tokens sampled since the last call; stops at the token that completes the program and returns how many it consumed. */
  advance(generated: readonly number[]): number {
    const start = this.seen;
    for (; this.seen < generated.length && !this.complete; this.seen++) this.accept(generated[this.seen]!);
    if (this.complete && this.seen < generated.length && this.then === 'end') this.accept(generated[this.seen]!); // throws: nothing may follow
    return this.seen - start;
  }

  nextDelta(generated: readonly number[], vocabSize: number = this.vocab.vocabSize): Float64Array {
    const began = performance.now();
    this.advance(generated);
    if (vocabSize < this.vocab.vocabSize) throw new RangeError(`constraint: logits have ${vocabSize} entries, fewer than the tokenizer's ${this.vocab.vocabSize} ids`);
    // Ids past the tokenizer's (padding rows of the model) stay masked.
    const delta = new Float64Array(vocabSize).fill(MASK_VALUE);
    const left = this.maxTokens - generated.length; // tokens left, this one included
    if (this.complete) {
      for (const id of this.eosIds) if (id < delta.length) delta[id] = 0;
    } else {
      const current = this.program[this.segment]!;
      if (current.kind === 'token') {
        delta[current.id] = 0;
      } else {
        const allowed = this.allowed(current.grammar);
        // Room after this token: what is left, minus this token and the end-of-turn token.
        const room = left - (this.then === 'end' ? 2 : 1) - this.restMin(this.segment + 1);
        let any = false;
        for (let k = 0; k < allowed.ids.length; k++) {
          if (allowed.mins[k]! <= room) {
            delta[allowed.ids[k]!] = 0;
            any = true;
          }
        }
        // Budget already too small for any valid completion: stay valid as long as possible.
        if (!any) for (const id of allowed.ids) delta[id] = 0;
        if (allowed.ids.length === 0) throw new ConstraintViolationError('no token of this vocabulary continues the output');
      }
    }
    this.cost.steps++;
    this.cost.totalMs += performance.now() - began;
    return delta;
  }

  /** Advances over a sampled token; a token the mask forbade is a bug (or a corrupted share) and ends the completion. */
  private accept(id: number): void {
    if (this.complete) throw new ConstraintViolationError(`token ${id} after the structured output was complete`);
    const current = this.program[this.segment]!;
    if (current.kind === 'token') {
      if (id !== current.id) throw new ConstraintViolationError(`token ${id} where the structured output needs token ${current.id}`);
      this.enterSegment(this.segment + 1);
      return;
    }
    let stacks = this.stacks;
    for (const byte of this.vocab.bytes[id] ?? []) {
      stacks = feedAll(current.grammar, stacks, byte);
      if (stacks.length === 0) break;
    }
    if (stacks.length === 0 || (this.vocab.bytes[id]?.length ?? 0) === 0) {
      throw new ConstraintViolationError(`token ${id} does not continue the structured output`);
    }
    this.stacks = stacks;
    if (stacks.some((s) => current.grammar.isComplete(s))) this.enterSegment(this.segment + 1);
  }

  private enterSegment(index: number): void {
    this.segment = index;
    const next = this.program[index];
    if (next?.kind === 'grammar') this.stacks = next.grammar.initial();
  }

  /** Fewest tokens the segments from `from` on need. */
  private restMin(from: number): number {
    let sum = 0;
    for (const seg of this.program.slice(from)) sum += seg.kind === 'token' ? 1 : seg.grammar.minRemaining(seg.grammar.initial()[0]!);
    return sum;
  }

  private allowed(grammar: JsonByteGrammar): Allowed {
    const key = `${this.segment}:${this.stacks.map((s) => grammar.key(s)).sort().join('|')}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cost.cacheHits++;
      return hit;
    }
    const ids: number[] = [];
    const mins: number[] = [];
    this.vocab.walk<(Stack | null)[]>(
      this.stacks,
      (stacks, byte) => {
        const next = feedAll(grammar, stacks, byte);
        return next.length === 0 ? undefined : next;
      },
      (id, stacks) => {
        ids.push(id);
        let min = Infinity;
        for (const s of stacks) min = Math.min(min, grammar.minRemaining(s));
        mins.push(min);
      },
    );
    const allowed = { ids: Int32Array.from(ids), mins: Float64Array.from(mins) };
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
