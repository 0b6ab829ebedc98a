/**
 * The OpenAI logit rules that depend on which token is which: logit_bias, presence_penalty and
 * frequency_penalty. They run in vocabulary order; in the private protocol P1 adds the same
 * delta vector to its own share before the output permutation (protocol.md, "Sampling").
 *
 * OpenAI semantics: logit[j] − presence·[count_j > 0] − frequency·count_j + bias[j], with
 * count_j the number of times token j was generated so far in this completion.
 */
import type { FloatArray } from '../compute/compute-backend.js';

/**
 * A per-step rule over the vocabulary that depends on what was generated so far (a grammar
 * or JSON-schema constraint): P1 adds its delta to its own share in vocabulary order, exactly
 * like logit_bias, so the engine sees nothing new (protocol.md, "Sampling"). One instance
 * serves one completion: it may keep state between calls.
 */
export interface LogitConstraint {
  /**
   * The additive delta for the next token, given every token generated so far in this
   * completion (each call sees the previous call's tokens plus the one sampled since), or
   * undefined when the constraint allows every token. Disallowed tokens get a large negative
   * value, never -Infinity (shares must stay finite). `vocabSize` is the length of the
   * logits, which may exceed the tokenizer's ids (padding rows): those must be disallowed.
   */
  nextDelta(generated: readonly number[], vocabSize: number): Float64Array | undefined;
}

export interface LogitAdjustments {
  /** Token id → additive bias (OpenAI: −100..100). JSON keys arrive as strings; both work. */
  logitBias?: Readonly<Record<number, number>>;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Tokens generated so far in this completion (not the prompt). */
  generated: readonly number[];
  /** A per-step constraint (structured outputs); its delta is added to the others. */
  constraint?: LogitConstraint;
}

/** True when the adjustments change nothing (so callers can skip the copy). */
export function isNeutral(adjustments: LogitAdjustments): boolean {
  const { logitBias, presencePenalty = 0, frequencyPenalty = 0, generated, constraint } = adjustments;
  const biased = logitBias !== undefined && Object.values(logitBias).some((b) => b !== 0);
  return constraint === undefined && !biased && ((presencePenalty === 0 && frequencyPenalty === 0) || generated.length === 0);
}

/**
 * The additive delta over the vocabulary, or undefined when it is all zero. Throws a
 * RangeError naming the bad bias key or penalty.
 */
export function logitAdjustmentDelta(vocabSize: number, adjustments: LogitAdjustments): Float64Array | undefined {
  const { logitBias, presencePenalty = 0, frequencyPenalty = 0, generated } = adjustments;
  if (!Number.isFinite(presencePenalty)) throw new RangeError(`presencePenalty: must be finite, got ${presencePenalty}`);
  if (!Number.isFinite(frequencyPenalty)) throw new RangeError(`frequencyPenalty: must be finite, got ${frequencyPenalty}`);
  if (isNeutral(adjustments)) {
    if (logitBias) validateBias(vocabSize, logitBias);
    return undefined;
  }
  const constrained = adjustments.constraint?.nextDelta(generated, vocabSize);
  if (constrained !== undefined && constrained.length !== vocabSize) throw new RangeError(`constraint: delta has ${constrained.length} entries, the vocabulary ${vocabSize}`);
  const delta = constrained ? Float64Array.from(constrained) : new Float64Array(vocabSize);
  if (presencePenalty !== 0 || frequencyPenalty !== 0) {
    const counts = new Map<number, number>();
    for (const id of generated) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`generated: token ${id} outside the vocabulary [0, ${vocabSize})`);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, count] of counts) delta[id] = delta[id]! - presencePenalty - frequencyPenalty * count;
  }
  if (logitBias) for (const [id, bias] of validateBias(vocabSize, logitBias)) delta[id] = delta[id]! + bias;
  return delta;
}

function validateBias(vocabSize: number, logitBias: Readonly<Record<number, number>>): [number, number][] {
  return Object.entries(logitBias).map(([key, bias]) => {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`logitBias: key ${JSON.stringify(key)} is not a token id in [0, ${vocabSize})`);
    if (!Number.isFinite(bias)) throw new RangeError(`logitBias[${key}]: must be a finite number, got ${bias}`);
    return [id, bias];
  });
}

/** A copy of `logits` with the adjustments applied (the input is left as it is). */
export function applyLogitAdjustments<T extends FloatArray>(logits: T, adjustments: LogitAdjustments): T {
  const out = logits.slice() as T; // slice() keeps the element type; TS widens it
  const delta = logitAdjustmentDelta(logits.length, adjustments);
  if (delta) for (let i = 0; i < out.length; i++) out[i] = out[i]! + delta[i]!;
  return out;
}
