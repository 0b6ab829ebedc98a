/**
 * The fixed-point plan of a layer with a per-head q/k RMSNorm before RoPE (Qwen3, Gemma 3):
 * q′ = γ_q ⊙ q/rms(q) per head, the same for k, then RoPE (folded into the scores).
 *
 * Under ring64 the step runs as: qkv MulW (q, k raw at e_n + e_qk) → one row-wise Elem over the
 * q and k heads together (the user re-encodes q̂, k̂ at `out`) → one diagonal MulW carrying γ_q
 * and γ_k at exponent `gamma` (so γ stays the engine's) → scores at 2(out + gamma) + rope. The
 * raw q/k no longer feed the scores, so e_n + e_qk is bounded by the raw range alone; the
 * scores' budget is split between `out` and `gamma` as the Llama plan splits it between e_n and
 * e_qk.
 */
import { int16Exponent, maxAbsOf } from './fixed-point-weights.js';
import { weightName, type FoldedWeight } from './folded-weights.js';
import { FixedPointPlanError, log2Ceil, need } from './plan-errors.js';

export interface QkNormBudget {
  /** Calibrated max · 2^e ≤ 2^top for every value. */
  top: number;
  /** out + gamma (half the scores' budget). */
  sum: number;
  /** The largest int16 exponent of the q|k rows of the qkv matrix. */
  qkMax: number;
  maxNorm: number;
  residual: number;
  minProb: number;
  /** The int16 exponents of the v rows and of the output projection (kept when the budget allows). */
  vMax: number;
  oMax: number;
}

export interface QkNormLayerPlan {
  attnNorm: number;
  qk: number;
  qkNorm: { out: number; gamma: number };
}

export function planQkNorm(layer: number, folded: ReadonlyMap<string, FoldedWeight>, ranges: { scores: number; qkRaw?: number | undefined; qkNormed?: number | undefined }, b: QkNormBudget): QkNormLayerPlan {
  if (ranges.qkRaw === undefined || ranges.qkNormed === undefined) throw new FixedPointPlanError(`fixed-point plan: layer ${layer} has a q/k norm but the calibration measured no q/k ranges`);
  const qk = b.qkMax;
  // v shares e_n and the probabilities get residual − e_n − e_v − e_o: keep v and o at their
  // int16 exponents where that leaves e_n 8 bits or more, else lower them (to 8 at most).
  const probsBound = Math.max(b.residual - b.minProb - b.vMax - b.oMax, Math.min(8, b.residual - b.minProb - 16));
  const attnNorm = Math.min(b.maxNorm, b.top - log2Ceil(ranges.qkRaw) - qk, probsBound);
  const gammaMax = int16Exponent(maxAbsOf(need(folded, weightName.qkNorm(layer)).data));
  const gamma = Math.min(gammaMax, Math.ceil(b.sum / 2) + 1);
  const out = b.sum - gamma;
  if (out < 4) throw new FixedPointPlanError(`fixed-point plan: layer ${layer} scores (max ${ranges.scores}) leave ${out} bits for the normalised q/k heads`);
  if (out + log2Ceil(ranges.qkNormed) > b.top) throw new FixedPointPlanError(`fixed-point plan: layer ${layer} normalised q/k (max ${ranges.qkNormed}) exceed the ring`);
  return { attnNorm, qk, qkNorm: { out, gamma } };
}
