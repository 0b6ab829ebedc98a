/**
 * Log-probabilities for the OpenAI `logprobs` / `top_logprobs` output: log-softmax of the
 * logits, computed in double precision with the max subtracted.
 */
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

/** The k most likely entries, most likely first (equal values: lower index first). */
export function topLogprobs(logits: Logits, k: number): TokenLogprob[] {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topLogprobs: k must be an integer >= 0, got ${k}`);
  const lse = logSumExp(logits);
  // Keep a small sorted list: O(n·k) beats sorting the vocabulary for the usual k <= 20.
  const best: number[] = [];
  const before = (a: number, b: number) => logits[a]! > logits[b]! || (logits[a] === logits[b] && a < b);
  for (let i = 0; i < logits.length && k > 0; i++) {
    if (best.length === k && !before(i, best[k - 1]!)) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && before(i, best[at - 1]!)) {
      if (at < k) best[at] = best[at - 1]!;
      at--;
    }
    best[at] = i;
  }
  return best.map((index) => ({ index, logprob: logits[index]! - lse }));
}
