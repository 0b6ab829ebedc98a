/**
 * The fixed-point plan of a layer with post-norms (Gemma 2/3): h ← h + γ_a ⊙ n(Wo·attn) and
 * h ← h + γ_f ⊙ n(FFN), n = RMSNorm without γ. Under ring64 each is a row-wise Elem on the
 * projection's output (decoded at `raw`, re-encoded at `out`) and a diagonal MulW carrying γ at
 * its own int16 exponent, with out + gamma = residual so the product adds into the stream with no
 * truncation. `raw` replaces the residual's exponent as the target of the o and down products
 * (their outputs are no longer added to the stream directly, and their range is their own).
 */
import { int16Exponent, maxAbsOf } from './fixed-point-weights.js';
import { weightName, type FoldedWeight } from './folded-weights.js';
import { FixedPointPlanError, log2Ceil, need } from './plan-errors.js';

export interface PostNormLayerPlan {
  raw: number;
  out: number;
  attnGamma: number;
  ffnGamma: number;
}

export function planPostNorms(layer: number, folded: ReadonlyMap<string, FoldedWeight>, ranges: { postRaw?: number | undefined; postNormed?: number | undefined }, b: { top: number; residual: number }): PostNormLayerPlan {
  if (ranges.postRaw === undefined || ranges.postNormed === undefined) throw new FixedPointPlanError(`fixed-point plan: layer ${layer} has post-norms but the calibration measured no post-norm ranges`);
  const raw = Math.min(b.residual, b.top - log2Ceil(ranges.postRaw));
  const gammaOf = (name: string) => int16Exponent(maxAbsOf(need(folded, name).data));
  // One `out` for both norms: the smaller of the two γ exponents' complements, each γ then at residual − out.
  const out = b.residual - Math.min(gammaOf(weightName.postAttnNorm(layer)), gammaOf(weightName.postFfnNorm(layer)));
  if (out + log2Ceil(ranges.postNormed) > b.top) throw new FixedPointPlanError(`fixed-point plan: layer ${layer} post-norm outputs (max ${ranges.postNormed}) exceed the ring`);
  const gamma = b.residual - out;
  return { raw, out, attnGamma: gamma, ffnGamma: gamma };
}
