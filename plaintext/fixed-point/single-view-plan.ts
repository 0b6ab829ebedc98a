/**
 * The exponents of the single-view attention mode with deferred normalisation (issue 12), under
 * the `ring64` profile, derived deterministically from the public fixed-point plan, so that all
 * three parties (and the oracle) agree without a new card field.
 *
 * Deferred normalisation: RMSNorm is x · (1/rms(x)) · γ with γ folded into the next weight, so
 * the engine applies W_qkv and W_gate|up to the un-normalised residual x at once and the user,
 * who learns rms(x) from a permuted view of x in the same flight, applies 1/rms(x) inside the
 * nonlinear step it evaluates anyway. The ring has no exact truncation, so the raw products
 * W·x carry the residual's exponent R: R must be low enough for them to fit the ring,
 *   R + e_qk + e_rope + log2 max|rot(W_qk x)| ≤ 61 − headroom,  R + e_v + log2 max|W_v x| ≤ …,
 *   R + e_gu + log2 max|W_gu x| ≤ …,
 * with max|W x| bounded by (calibrated max of W·x̂) · (max |x|) since rms(x) ≤ max|x|. The user
 * re-encodes everything else at exponents of its own choosing (no products follow on shares):
 * q̂, k̂ = rot(q, k) / rms at e_q (scores at 2e_q, exact ring dot products), v̂ at e_v,
 * probabilities at e_p (P·V̂ at e_p + e_v), the attention output at R − e_o (so W_o lands on R),
 * the SwiGLU output at R − e_down (as in the paper schedule).
 */
import type { ModelConfig } from '../../model/model-description.js';
import { RING_VALUE_LIMIT_BITS, type FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { ropeFrequencies } from '../../model/rope-scaling.js';

export interface SingleViewLayerPlan {
  /** Weight exponents (the plan's int16 weights, unchanged). */
  qk: number;
  v: number;
  o: number;
  gateUp: number;
  down: number;
  /** Rotated raw q/k from the engine: R + qk + rope; raw v: R + v; raw gate|up: R + gateUp. */
  rawQk: number;
  rawV: number;
  rawGateUp: number;
  /** The user's re-encodings: normalised rotated q̂, k̂; v̂; probabilities; attention output; SwiGLU output. */
  q: number;
  value: number;
  probs: number;
  attention: number;
  ffn: number;
}

export interface SingleViewPlan {
  residual: number;
  onehot: number;
  rope: number;
  layers: SingleViewLayerPlan[];
}

export class SingleViewPlanError extends Error {
  override readonly name = 'SingleViewPlanError';
}

const log2Ceil = (x: number) => Math.ceil(Math.log2(Math.max(x, 2 ** -20)));

/** Highest exponent the user gives its own re-encodings where the ring allows more. */
const MAX_USER_BITS = 24;
const PROB_BITS = 20;

/** @throws SingleViewPlanError when the model's ranges leave too few bits for the mode (the engine then does not offer it). */
export function singleViewPlan(config: Pick<ModelConfig, 'headDim' | 'ropeTheta' | 'ropeScaling' | 'rotaryDim'>, plan: FixedPointPlan): SingleViewPlan {
  const top = RING_VALUE_LIMIT_BITS - plan.headroomBits;
  const r = plan.ranges;
  const gain = ropeFrequencies(config.rotaryDim ?? config.headDim, config.ropeTheta, config.ropeScaling, 0).attentionFactor;
  // A rotated pair (a c − b s, a s + b c) stays within 2·max(|a|, |b|)·gain.
  const rawQkMax = 2 * gain * Math.max(r.query, r.key) * r.residual;
  let residual = plan.residual;
  for (const L of plan.layers) {
    residual = Math.min(residual, top - plan.rope - L.qk - log2Ceil(rawQkMax), top - L.v - log2Ceil(r.value * r.residual), top - L.gateUp - log2Ceil(r.gateUp * r.residual));
  }
  if (residual < plan.embedding) throw new SingleViewPlanError(`single-view plan: the residual gets exponent ${residual}, below the embedding's ${plan.embedding}`);
  const q = Math.min(MAX_USER_BITS, Math.floor((top - log2Ceil(r.scores)) / 2));
  const value = Math.min(MAX_USER_BITS, top - PROB_BITS - log2Ceil(Math.max(r.value, r.attention)));
  if (q < 8 || value < 8) throw new SingleViewPlanError(`single-view plan: q̂ at ${q} bits, v̂ at ${value} bits`);
  const layers = plan.layers.map((L, l): SingleViewLayerPlan => {
    const attention = residual - L.o;
    const ffn = residual - L.down;
    if (attention < 8 || L.down > residual) throw new SingleViewPlanError(`single-view plan: layer ${l} attention output at ${attention} bits, down weight at ${L.down} over the residual's ${residual}`);
    return { qk: L.qk, v: L.v, o: L.o, gateUp: L.gateUp, down: L.down, rawQk: residual + L.qk + plan.rope, rawV: residual + L.v, rawGateUp: residual + L.gateUp, q, value, probs: PROB_BITS, attention, ffn };
  });
  return { residual, onehot: residual - plan.embedding, rope: plan.rope, layers };
}
