/**
 * The fixed-point oracle of the private embedding pass (ring64): the pooled final hidden state
 * of an input, computed on ring integers exactly as the private pass computes it on shares
 * (ring-pooling.ts), so that private == oracle bit for bit.
 */
import { residualViewWidth } from '../../model/fixed-point/view-width.js';
import { checkViewWidth } from './view-width-check.js';
import type { Ring } from '../../compute/ring64.js';
import { ringHadamard } from '../../compute/ring-hadamard.js';
import { rmsnormFixed } from './fixed-point-elem.js';
import type { FixedPointModel } from './fixed-point-model.js';
import { decodePooledEmbedding, embeddingGammaExponent, ringEmbeddingGamma, ringSumRows } from './ring-pooling.js';

export interface FixedPointEmbedding {
  /** γ ⊙ Σ_t RMSNorm(h_t) as ring integers at `exponent` (what the user opens). */
  pooled: Ring;
  exponent: number;
  /** The mean-pooled vector (pooled decoded, divided by the row count). */
  mean: Float64Array;
}

/** `gamma`: the model's final norm weights (ModelWeights.finalNorm). */
export async function fixedPointEmbedding(model: FixedPointModel, gamma: ArrayLike<number>, tokens: readonly number[]): Promise<FixedPointEmbedding> {
  const { config: c, plan } = model;
  const rows = tokens.length;
  const gammaExp = embeddingGammaExponent(plan.finalNorm, rows, c.dim);
  const x = await model.newSequence().residualStream(tokens);
  checkViewWidth(x, residualViewWidth(plan), 'rmsnorm input');
  const normed = rmsnormFixed(x, rows, c.dim, c.normEps, plan.residual, plan.finalNorm);
  const pooled = ringHadamard(ringSumRows(normed, rows, c.dim), ringEmbeddingGamma(gamma, gammaExp));
  const exponent = plan.finalNorm + gammaExp;
  return { pooled, exponent, mean: decodePooledEmbedding(pooled, exponent, rows) };
}
