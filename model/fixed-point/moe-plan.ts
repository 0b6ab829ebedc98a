/**
 * The fixed-point exponents of a mixture-of-experts FFN (ModelVariant.moe) under `ring64`, used
 * by derivePlan (fixed-point-plan.ts):
 * - router: int16 exponent of the router matrix; its logits sit at ffnNorm + router, and the
 *   calibrated router range caps ffnNorm (normLimit) like the gate/up range does;
 * - down: one exponent for every expert's down projection (the largest at which all fit int16),
 *   so all expert outputs share one exponent and can be summed;
 * - gate: the exponent at which the user re-encodes the gate vector g ∈ [0, 1]. The combination
 *   Σ_e g_e · y_e is a ring product, so its exponent is gate + ffn + down; for it to land on the
 *   residual R without truncation the SwiGLU output is re-encoded at ffn = R − down − gate. The
 *   R − down bits are split evenly between the gate and the activations (at most 24 for the gate).
 */
import type { ModelConfig } from '../model-description.js';
import { weightName, type FoldedWeight } from './folded-weights.js';
import { int16Exponent, maxAbsOf } from './fixed-point-weights.js';

const log2Ceil = (x: number) => Math.ceil(Math.log2(Math.max(x, 2 ** -20)));

export interface MoeWeightExponents {
  router: number;
  down: number;
  /** Largest ffnNorm the router logits allow. */
  normLimit: number;
}

function need(folded: ReadonlyMap<string, FoldedWeight>, name: string): FoldedWeight {
  const w = folded.get(name);
  if (!w) throw new RangeError(`fixed-point plan: no weight ${name}`);
  return w;
}

export function moeWeightExponents(config: ModelConfig, folded: ReadonlyMap<string, FoldedWeight>, ranges: { router?: number | undefined }, layer: number, top: number): MoeWeightExponents {
  const moe = config.variant?.moe;
  if (!moe) throw new RangeError('moeWeightExponents: the model has no mixture of experts');
  const router = int16Exponent(maxAbsOf(need(folded, weightName.router(layer)).data));
  let downMax = 0;
  for (let e = 0; e < moe.nExperts; e++) downMax = Math.max(downMax, maxAbsOf(need(folded, weightName.expertDown(layer, e)).data));
  return { router, down: int16Exponent(downMax), normLimit: top - log2Ceil(ranges.router ?? 0) - router };
}

export function moeGateExponent(residual: number, down: number): number {
  return Math.max(8, Math.min(24, Math.floor((residual - down) / 2)));
}
