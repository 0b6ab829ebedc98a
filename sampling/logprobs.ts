/**
 * Log-probabilities for the OpenAI `logprobs` / `top_logprobs` output: log-softmax of the
 * logits, computed in double precision with the max subtracted.
 */
import { FixedWorkOrder, type WorkMeter } from './fixed-work-order.js';

type Logits = Float32Array | Float64Array;

export interface TokenLogprob {
  index: number;
  logprob: number;
}

function logSumExp(logits: Logits): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

export function logSoftmax(logits: Logits): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** log p(index) under softmax(logits). */
export function logprobOf(logits: Logits, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= logits.length) throw new RangeError(`logprobOf: index ${index} outside [0, ${logits.length})`);
  return logits[index]! - logSumExp(logits);
}

/**
 * The k most likely entries, most likely first (equal values: lower index first). Fixed work
 * for a given (n, k): one radix cut and one collecting pass over the whole vocabulary, then a
 * k² selection sort (fixed-work-order.ts), whatever the values.
 */
export function topLogprobs(logits: Logits, k: number, meter?: WorkMeter): TokenLogprob[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topLogprobs: k must be an integer >= 0, got ${k}`);
  const n = logits.length;
  const lse = logSumExp(logits);
  if (meter) meter.visits += 2 * n;
  if (n === 0) return [];
  const size = Math.min(k, n);
  const order = new FixedWorkOrder(logits, new Float64Array(n), new Uint8Array(n).fill(1), meter);
  const cut = order.cut((p) => p.count >= Math.max(1, size));
  return order.collect(cut).slice(0, size).map((index) => ({ index, logprob: logits[index]! - lse }));
}
