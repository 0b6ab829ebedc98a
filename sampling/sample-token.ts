/**
 * Token selection over a logits vector, written so that the result does not depend on which
 * index is which: the private protocol samples on π(logits) and must get π(i) exactly when
 * sampling the plain logits gives i, for the same rng stream.
 *
 * How: candidates are ordered by value alone (descending; equal values fall back to index
 * order, which only matters between equally likely tokens), every filter (top-k, top-p, min-p)
 * cuts a prefix of that order, and the choice walks the cumulative mass in that order with one
 * uniform draw. Each non-greedy call consumes exactly one `rng.uniform()`, so two runs that
 * see the same values in different orders stay in step.
 */
import type { Prg } from '../crypto/prg.js';
import { resolveSamplingParams, type SamplingParams } from './sampling-params.js';

type Logits = Float32Array | Float64Array;

/**
 * Tokens whose probability relative to the top token is below e^−60 are never candidates: far
 * below what a 53-bit uniform draw can resolve, and cutting them keeps the sort short. The cut
 * is by value, so it is permutation-invariant too.
 */
const NEGLIGIBLE_LOG_RATIO = -60;

/** Index of the largest logit; ties go to the lowest index. */
export function argmax(logits: Logits): number {
  if (logits.length === 0) throw new RangeError('argmax: logits is empty');
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export function sampleToken(logits: Logits, params: SamplingParams, rng: Prg): number {
  const { temperature, topP, topK, minP } = resolveSamplingParams(params);
  if (logits.length === 0) throw new RangeError('sampleToken: logits is empty');
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Infinity) throw new RangeError(`sampleToken: logits[${i}] is ${v}`);
    if (v > max) max = v;
  }
  if (max === -Infinity) throw new RangeError('sampleToken: every logit is -Infinity, nothing can be sampled');
  if (temperature === 0) return argmax(logits);

  // Candidates: tokens with non-negligible probability, sorted by value (ties: lower index).
  const floor = max + NEGLIGIBLE_LOG_RATIO * temperature;
  const candidates: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! >= floor) candidates.push(i);
  candidates.sort((a, b) => logits[b]! - logits[a]! || a - b);
  let count = topK > 0 ? Math.min(topK, candidates.length) : candidates.length;

  // Unnormalised probabilities relative to the top token (weights[0] = 1).
  const weights = new Float64Array(count);
  let total = 0;
  for (let j = 0; j < count; j++) {
    weights[j] = Math.exp((logits[candidates[j]!]! - max) / temperature);
    total += weights[j]!;
  }
  if (topP < 1) {
    // Smallest prefix whose mass reaches topP (at least one token).
    let mass = 0;
    let keep = 0;
    while (keep < count) {
      mass += weights[keep]!;
      keep++;
      if (mass >= topP * total) break;
    }
    count = keep;
  }
  if (minP > 0) {
    let keep = 1;
    while (keep < count && weights[keep]! >= minP * weights[0]!) keep++;
    count = keep;
  }
  let mass = 0;
  for (let j = 0; j < count; j++) mass += weights[j]!;

  const target = rng.uniform() * mass;
  let cumulative = 0;
  for (let j = 0; j < count; j++) {
    cumulative += weights[j]!;
    if (target < cumulative) return candidates[j]!;
  }
  return candidates[count - 1]!; // rounding left target at the very top of the range
}
