/**
 * The sampling rules that do not care which index is which, so P1 can apply them to the
 * permuted logits of the private protocol (protocol.md, "Sampling"). Rules that do care
 * (logit bias, penalties) live in logit-adjustments.ts and run in vocabulary order.
 */
export interface SamplingParams {
  /** 0 = greedy argmax (ties go to the lowest index); otherwise logits are divided by it. */
  temperature: number;
  /** Nucleus: keep the most likely tokens until their mass reaches topP. 1 (default) = off. */
  topP?: number;
  /** Keep only the k most likely tokens. 0 (default) = off. */
  topK?: number;
  /** Drop tokens whose probability is below minP × the top token's. 0 (default) = off. */
  minP?: number;
}

/** Sampling params with every field present and checked. */
export type ResolvedSamplingParams = Required<SamplingParams>;

/** Fills defaults and checks ranges; throws a RangeError naming the bad parameter. */
export function resolveSamplingParams(params: SamplingParams): ResolvedSamplingParams {
  const { temperature, topP = 1, topK = 0, minP = 0 } = params;
  if (!Number.isFinite(temperature) || temperature < 0) throw new RangeError(`temperature: must be a finite number >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP: must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`topK: must be an integer >= 0 (0 = off), got ${topK}`);
  if (!(minP >= 0 && minP <= 1)) throw new RangeError(`minP: must be in [0, 1], got ${minP}`);
  return { temperature, topP, topK, minP };
}
