/**
 * Token selection over a logits vector, written so that the result does not depend on which
 * index is which: the private protocol samples on π(logits) and must get π(i) exactly when
 * sampling the plain logits gives i, for the same rng stream.
 *
 * How: candidates are ordered by value alone (descending; equal values fall back to index
 * order, which only matters between equally likely tokens), every filter (top-k, top-p, min-p)
 * cuts a prefix of that order, and the choice walks the cumulative mass in that order with one
 * uniform draw. Every call consumes exactly one `rng.uniform()` (greedy ignores it), so two
 * runs that see the same values in different orders stay in step.
 *
 * The cumulative mass is exact (integer weights of 52 bits, see fixed-work-order.ts), so the
 * cut and the draw do not depend on the order entries are summed in: the permuted logits of
 * the private protocol give π(i) exactly where the plaintext logits give i.
 */
import type { Prg } from '../crypto/prg.js';
import { FixedWorkOrder, type WorkMeter } from './fixed-work-order.js';
import { resolveSamplingParams, type SamplingParams } from './sampling-params.js';

type Logits = Float32Array | Float64Array;

/**
 * Tokens whose probability relative to the top token is below e^−60 are never candidates: far
 * below what a 53-bit uniform draw can resolve (their 52-bit integer weight is 0 anyway). The
 * cut is by value, so it is permutation-invariant too.
 */
const NEGLIGIBLE_LOG_RATIO = -60;

/** Index of the largest logit; ties go to the lowest index. */
export function argmax(logits: Logits): number {
  if (logits.length === 0) throw new RangeError('argmax: logits is empty');
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * Samples one index. Fixed work (issue 11): the same passes over the whole vocabulary whatever
 * the logits and the parameters (greedy included); see fixed-work-order.ts. `meter`, when
 * given, counts the entries visited.
 */
export function sampleToken(logits: Logits, params: SamplingParams, rng: Prg, meter?: WorkMeter): number {
  const { temperature, topP, topK, minP } = resolveSamplingParams(params);
  const n = logits.length;
  if (n === 0) throw new RangeError('sampleToken: logits is empty');
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Infinity) throw new RangeError(`sampleToken: logits[${i}] is ${v}`);
    max = v > max ? v : max;
  }
  if (max === -Infinity) throw new RangeError('sampleToken: every logit is -Infinity, nothing can be sampled');
  if (meter) meter.visits += n;

  // Greedy is top-k = 1 on the same path, so it costs what sampling costs.
  const t = temperature === 0 ? 1 : temperature;
  const floor = max + NEGLIGIBLE_LOG_RATIO * t;
  const weights = new Float64Array(n);
  const member = new Uint8Array(n);
  const keepMinP = new Uint8Array(n);
  let candidates = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i]!;
    const m = v >= floor ? 1 : 0;
    const w = m === 1 ? Math.exp((v - max) / t) : 0;
    weights[i] = w;
    member[i] = m;
    keepMinP[i] = w >= minP ? 1 : 0; // the top token has w = 1 >= minP
    candidates += m;
  }
  if (meter) meter.visits += n;
  const order = new FixedWorkOrder(logits, weights, member, meter);

  // top-k: the first k candidates (all of them when off).
  const k = temperature === 0 ? 1 : topK > 0 ? Math.min(topK, candidates) : candidates;
  order.restrictTo(order.cut((p) => p.count >= k));
  // top-p: the smallest prefix whose mass reaches topP of what top-k kept (everything at 1).
  const kept = order.stats().mass;
  order.restrictTo(order.cut((p) => p.mass >= topP * kept));
  // min-p: tokens at least minP times as likely as the top one (a prefix, by monotonicity).
  order.restrictWhere(keepMinP);
  // The draw: one uniform per call, walked in value order over the exact cumulative mass.
  const total = order.stats().mass;
  const target = rng.uniform() * total;
  return order.cut((p) => p.mass > target || p.mass >= total).index;
}
