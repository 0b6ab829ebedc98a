/**
 * The optional length-bucket mode of the gateway (issue 11, "metadata the engine learns"):
 * what the engine and the dealer see of a session's lengths is rounded to multiples of a
 * bucket size b, and the output does not change.
 *
 * Without buckets they learn the exact prompt length L (the first pass has L rows), the
 * requested maximum, and the exact number of passes, i.e. how many tokens were generated and
 * so where the completion ended.
 *
 * With buckets of b tokens:
 * - the first pass (the prefill) covers only P = ⌊L/b⌋·b prompt tokens (1 when L < b); the
 *   remaining L − P < b prompt tokens are fed one per pass as if they were decoded (the
 *   gateway discards what those passes sample: teacher forcing). Causal attention makes the
 *   key/value rows exactly those of a prefill, so the logits of the generated tokens are the
 *   same up to float rounding (bit for bit in fixed point) and the text is unchanged.
 * - the declared maximum number of passes is rounded up to a multiple of b, and after the last
 *   real token (end of sequence, stop string or max_tokens) the gateway keeps running dummy
 *   passes until the number of passes is a multiple of b (or the declared maximum). Dummy and
 *   teacher-forced passes do everything a real pass does, token query included, with a
 *   throwaway sampling stream so that seeded sampling is not shifted.
 *
 * What it hides: L beyond ⌊L/b⌋, and the number of generated tokens beyond ⌈(L − P + n)/b⌉;
 * hence also whether the end was early. What it costs: up to b − 1 extra decode passes for the
 * prompt tail and up to b − 1 padding passes at the end, each the full price of a decoded
 * token (forward pass, logits opening, BFV lookup).
 */

export interface PassPlan {
  /** Prompt tokens in the first pass (what the session declares as its prompt length). */
  prefillRows: number;
  /** Prompt tokens fed one per pass after the prefill (their sampled tokens are discarded). */
  forcedPromptTokens: number;
  /** The session's declared maximum number of passes (SessionParams.maxNewTokens). */
  maxPasses: number;
  /** 0 = no buckets; otherwise the bucket size b. */
  bucket: number;
}

export function planPasses(promptLength: number, maxTokens: number, maxSeqLen: number, bucket: number): PassPlan {
  if (!Number.isInteger(bucket) || bucket < 0) throw new RangeError(`lengthBucket: must be an integer >= 0, got ${bucket}`);
  if (bucket === 0) return { prefillRows: promptLength, forcedPromptTokens: 0, maxPasses: maxTokens, bucket };
  const prefillRows = promptLength < bucket ? 1 : Math.floor(promptLength / bucket) * bucket;
  const forcedPromptTokens = promptLength - prefillRows;
  const needed = forcedPromptTokens + maxTokens;
  const maxPasses = Math.min(Math.ceil(needed / bucket) * bucket, maxSeqLen - prefillRows);
  return { prefillRows, forcedPromptTokens, maxPasses, bucket };
}

/** Passes to run in total once `done` passes have produced everything that was wanted. */
export function paddedPasses(plan: PassPlan, done: number): number {
  if (plan.bucket === 0) return done;
  return Math.min(Math.ceil(done / plan.bucket) * plan.bucket, plan.maxPasses);
}
