/**
 * The fixed-point plan of the `ring64` profile: which power-of-two exponent every value of the
 * forward pass carries, chosen at load time from the weights and from value ranges measured on a
 * calibration run (plaintext/fixed-point/calibrate.ts). The plan is public (it goes with the
 * weight specs): the user decodes every permuted view at the exponent the plan names.
 *
 * Where exponents come from (v ≈ int · 2^(−e); every product adds exponents, nothing truncates):
 * - weights: int16 per matrix block (fixed-point-weights.ts); q/k rows may be lowered (below).
 * - residual stream R: the largest exponent with max|h| · 2^R ≤ 2^(61 − headroom).
 * - embedding: the user's one-hot row holds 2^(R − e_emb) instead of 1, so X·onehot lands at R.
 * - attention: the user re-encodes the RMSNorm output at e_n; q, k = MulW outputs at e_n + e_qk;
 *   RoPE is folded into the scores' bilinear form with integer coefficients at e_rope
 *   (score(m, n) = q_m · R_int(p_n − p_m) k_n), so scores sit at 2(e_n + e_qk) + e_rope; the
 *   split of that budget (61 − headroom − log2 max|score|) between e_n and e_qk is the tightest
 *   choice in the plan. Probabilities are re-encoded at e_p = R − e_n − e_v − e_o, so P·V·Wo
 *   lands on R with no truncation (e_v, e_o lowered if e_p would fall below 14 bits).
 * - MLP: RMSNorm output at e_n2 (gate/up at e_n2 + e_gu, within the budget), SwiGLU output
 *   re-encoded at R − e_down.
 * - logits: final RMSNorm at e_f, logits at e_f + e_head.
 * Headroom: every calibrated maximum sits at least `headroomBits` below 2^61; the user refuses any
 * view whose integer reaches 2^61 (fixed-point-elem.ts), so values up to 2^headroom times the
 * calibrated range pass, larger ones up to 2^(63 − 61 + headroom) are detected, and only values
 * beyond 2^(2 + headroom) times the range could wrap unseen.
 */
import type { ModelConfig } from '../model-description.js';
import { weightName, type FoldedWeight } from './folded-weights.js';
import { int16Exponent, maxAbsOf, quantizeWeight, type FixedPointWeight, type WeightBlock } from './fixed-point-weights.js';
import { FixedPointPlanError, log2Ceil, need } from './plan-errors.js';
import { moeGateExponent, moeWeightExponents } from './moe-plan.js';
import { planPostNorms } from './plan-post-norms.js';
import { planQkNorm } from './plan-qk-norm.js';
import { DEFERRED_FFN_NORM_FORMAT, deferredFfnNormEligible, deferredFfnNormExponents } from './plan-deferred-ffn-norm.js';
import { DEFAULT_FUSED_VALUES_BYTES, FUSED_VALUES_FORMAT } from './plan-fused-values.js';

/** Largest magnitude (as a power of two) any legitimate value's integer may reach; the user's views are checked against it. */
export const RING_VALUE_LIMIT_BITS = 61;

/** Max |value| of each tensor family over a calibration run (float plaintext). */
export interface ValueRanges {
  residual: number;
  normed: number;
  query: number;
  key: number;
  value: number;
  /** Raw q·k (RoPE applied, before 1/sqrt(headDim)). */
  scores: number;
  attention: number;
  gateUp: number;
  ffn: number;
  logits: number;
  /** Per-head q/k norm (ModelVariant.qkNorm): q and k before it, and the largest normalised element (before γ). */
  qkRaw?: number | undefined;
  qkNormed?: number | undefined;
  /** Post-norms (ModelVariant.postNorms): the attention and FFN outputs before them, and the largest normalised element. */
  postRaw?: number | undefined;
  postNormed?: number | undefined;
  /** ModelVariant.moe: router logits (absent: no router). */
  router?: number | undefined;
  /** Gate/up on the raw residual, W_gu·x = (W_gu·x̂)·rms(x): what the deferred FFN norm's products reach (plan-deferred-ffn-norm.ts). */
  rawGateUp?: number | undefined;
}

/**
 * ModelVariant.moe (moe-plan.ts): the router weight's exponent, the router logits' (ffnNorm +
 * router) and the gate vector's (the user's re-encoding); the layer's ffn is then R − down − gate,
 * so that gate · expert output lands on R (R: the residual's exponent, or the post-norm's raw one).
 */
export interface MoeLayerPlan {
  router: number;
  logits: number;
  gate: number;
}

export interface LayerPlan {
  /** RMSNorm output feeding q/k/v (user's re-encoding). */
  attnNorm: number;
  /** Weight exponents of the q|k rows and the v rows of the qkv matrix. */
  qk: number;
  v: number;
  /** Output projection weight. */
  o: number;
  /** Scores: 2(attnNorm + qk) + rope. */
  scores: number;
  /** Softmax output (user's re-encoding): residual − attnNorm − v − o. */
  probs: number;
  ffnNorm: number;
  gateUp: number;
  /** SwiGLU output (user's re-encoding): residual − down. */
  ffn: number;
  down: number;
  /**
   * Per-head q/k norm (ModelVariant.qkNorm, plan-qk-norm.ts): the user re-encodes the
   * normalised heads q̂, k̂ at `out`; γ_q, γ_k (one diagonal MulW) carry `gamma`; q′, k′ then sit
   * at out + gamma and the scores at 2(out + gamma) + rope. Absent: no q/k norm.
   */
  qkNorm?: { out: number; gamma: number } | undefined;
  /**
   * Post-norms (ModelVariant.postNorms, plan-post-norms.ts): the o and down outputs sit at `raw`
   * (not the residual's exponent); the user re-encodes their RMSNorm at `out`; γ (a diagonal
   * MulW) carries `gamma`, with out + gamma = residual so the result adds into the stream.
   */
  postNorm?: { raw: number; out: number; attnGamma: number; ffnGamma: number } | undefined;
  /** Mixture-of-experts layers only. */
  moe?: MoeLayerPlan | undefined;
}

export interface FixedPointPlan {
  /**
   * '/3' exactly when fusedValuesBytes is set (plan-fused-values.ts), else '/2' exactly when
   * ffnNormDeferred is set (plan-deferred-ffn-norm.ts), else '/1': a peer that does not know a
   * schedule refuses the plan that asks for it.
   */
  format: 'permllm-fixed-point/1' | 'permllm-fixed-point/2' | 'permllm-fixed-point/3';
  /**
   * The beaver schedule defers the FFN RMSNorm into the SwiGLU step (plan-deferred-ffn-norm.ts):
   * W_gate|up takes the raw residual, its products sit at residual + gateUp, and ffnNorm is unused.
   */
  ffnNormDeferred?: true | undefined;
  /**
   * The beaver schedule evaluates P·V without its own round trip wherever the step's dealer
   * message fits this many bytes (plan-fused-values.ts, the one rule; absent: never). Exponents
   * are unchanged: the fused step computes the same ring values as the Beaver product.
   */
  fusedValuesBytes?: number | undefined;
  headroomBits: number;
  residual: number;
  /** The user's one-hot value is 2^onehot. */
  onehot: number;
  embedding: number;
  rope: number;
  layers: LayerPlan[];
  finalNorm: number;
  head: number;
  logits: number;
  /** What the plan was chosen from. */
  ranges: ValueRanges;
}

export interface PlanOptions {
  headroomBits?: number;
  ropeBits?: number;
  /** Lowest acceptable exponent of the probabilities. */
  minProbBits?: number;
  /** Highest exponent the user uses for RMSNorm outputs where the budget allows more. */
  maxNormBits?: number;
  /**
   * Defer the FFN RMSNorm into the SwiGLU step where the model qualifies and its ranges fit
   * (plan-deferred-ffn-norm.ts): 10 flights per layer instead of 12, at lower weight precision.
   * Default true.
   */
  deferFfnNorm?: boolean;
  /**
   * The fused P·V step's byte bound per layer and step (plan-fused-values.ts); false: keep the
   * Beaver P·V everywhere. Default DEFAULT_FUSED_VALUES_BYTES (1 MiB).
   */
  fusedValuesBytes?: number | false;
}

export { FixedPointPlanError } from './plan-errors.js';

function blockMax(w: FoldedWeight, fromRow: number, rows: number): number {
  return maxAbsOf(w.data, fromRow * w.inDim, (fromRow + rows) * w.inDim);
}

/** Chooses every exponent (see the file comment) and checks the plan's own budget. */
export function derivePlan(config: ModelConfig, folded: ReadonlyMap<string, FoldedWeight>, ranges: ValueRanges, options: PlanOptions = {}): FixedPointPlan {
  const h = options.headroomBits ?? 4;
  const rope = options.ropeBits ?? 12;
  const minProb = options.minProbBits ?? 14;
  const maxNorm = options.maxNormBits ?? 24;
  const top = RING_VALUE_LIMIT_BITS - h; // calibrated max · 2^e ≤ 2^top
  const qDim = config.nHeads * config.headDim;
  const kvDim = config.nKvHeads * config.headDim;
  const residual = top - log2Ceil(ranges.residual);
  const emb = need(folded, weightName.embedding);
  const embedding = Math.min(int16Exponent(maxAbsOf(emb.data)), residual);
  const layers: LayerPlan[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    const qkv = need(folded, weightName.qkv(l));
    const qkMax = int16Exponent(blockMax(qkv, 0, qDim + kvDim));
    let v = int16Exponent(blockMax(qkv, qDim + kvDim, kvDim));
    let o = int16Exponent(maxAbsOf(need(folded, weightName.output(l)).data));
    const budget = top - log2Ceil(ranges.scores) - rope; // 2(e_n + e_qk) ≤ budget
    const sum = Math.floor(budget / 2);
    const qkNormed = config.variant?.qkNorm ? planQkNorm(l, folded, ranges, { top, sum, qkMax, maxNorm, residual, minProb, vMax: v, oMax: o }) : undefined;
    const qk = qkNormed ? qkNormed.qk : Math.min(qkMax, Math.ceil(sum / 2) + 1);
    const attnNorm = qkNormed ? qkNormed.attnNorm : sum - qk;
    if (attnNorm < 4) throw new FixedPointPlanError(`fixed-point plan: layer ${l} scores (max ${ranges.scores}) leave ${attnNorm} bits for the normalised input`);
    const post = config.variant?.postNorms ? planPostNorms(l, folded, ranges, { top, residual }) : undefined;
    const attnOut = post ? post.raw : residual; // exponent of the o projection's output
    let probs = attnOut - attnNorm - v - o;
    while (probs < minProb && (v > 8 || o > 8)) {
      if (v >= o) v--;
      else o--;
      probs = attnOut - attnNorm - v - o;
    }
    if (probs < minProb) throw new FixedPointPlanError(`fixed-point plan: layer ${l} probabilities get only ${probs} bits`);
    if (probs + attnNorm + v + log2Ceil(ranges.attention) > top) throw new FixedPointPlanError(`fixed-point plan: layer ${l} P·V (max ${ranges.attention}) exceeds the ring`);
    const gateUp = int16Exponent(maxAbsOf(need(folded, weightName.gateUp(l)).data));
    const moe = config.variant?.moe ? moeWeightExponents(config, folded, ranges, l, top) : undefined;
    const ffnNorm = Math.min(maxNorm, top - log2Ceil(ranges.gateUp) - gateUp, moe?.normLimit ?? Infinity);
    const down = Math.min(moe ? moe.down : int16Exponent(maxAbsOf(need(folded, weightName.down(l)).data)), attnOut);
    const gate = moe ? moeGateExponent(attnOut, down) : 0;
    const ffn = attnOut - down - gate;
    if (ffnNorm < 8) throw new FixedPointPlanError(`fixed-point plan: layer ${l} gate/up (max ${ranges.gateUp}) leave ${ffnNorm} bits for the normalised input`);
    if (ffn + log2Ceil(ranges.ffn) > top) throw new FixedPointPlanError(`fixed-point plan: layer ${l} SwiGLU output (max ${ranges.ffn}) exceeds the ring`);
    const scores = qkNormed ? 2 * (qkNormed.qkNorm.out + qkNormed.qkNorm.gamma) + rope : 2 * (attnNorm + qk) + rope;
    const layer: LayerPlan = { attnNorm, qk, v, o, scores, probs, ffnNorm, gateUp, ffn, down, ...(qkNormed ? { qkNorm: qkNormed.qkNorm } : {}), ...(post ? { postNorm: post } : {}) };
    if (moe) layer.moe = { router: moe.router, logits: ffnNorm + moe.router, gate };
    layers.push(layer);
  }
  const head = int16Exponent(maxAbsOf(need(folded, weightName.head).data));
  const finalNorm = Math.min(maxNorm, top - log2Ceil(ranges.logits) - head);
  const plan: FixedPointPlan = { format: 'permllm-fixed-point/1', headroomBits: h, residual, onehot: residual - embedding, embedding, rope, layers, finalNorm, head, logits: finalNorm + head, ranges: { ...ranges } };
  const deferred = (options.deferFfnNorm ?? true) && deferredFfnNormEligible(config, folded) ? deferredFfnNormExponents(config, folded, plan, top) : undefined;
  const scheduled: FixedPointPlan = deferred
    ? { ...plan, format: DEFERRED_FFN_NORM_FORMAT, ffnNormDeferred: true, residual: deferred.residual, onehot: deferred.residual - embedding, layers: layers.map((L, l) => ({ ...L, ...deferred.layers[l]! })) }
    : plan;
  const fused = options.fusedValuesBytes ?? DEFAULT_FUSED_VALUES_BYTES;
  if (fused === false) return scheduled;
  if (!Number.isSafeInteger(fused) || fused < 0) throw new RangeError(`fixed-point plan: fusedValuesBytes must be a non-negative integer or false, got ${fused}`);
  return { ...scheduled, format: FUSED_VALUES_FORMAT, fusedValuesBytes: fused };
}

/** The weights in the plan's int16 format (the engine's copy; the float folded weights can go). */
export function quantizeWeights(config: ModelConfig, plan: FixedPointPlan, folded: ReadonlyMap<string, FoldedWeight>): Map<string, FixedPointWeight> {
  const qDim = config.nHeads * config.headDim;
  const kvDim = config.nKvHeads * config.headDim;
  const out = new Map<string, FixedPointWeight>();
  const put = (name: string, blocks: WeightBlock[]) => out.set(name, quantizeWeight(need(folded, name), blocks));
  put(weightName.embedding, [{ rows: config.dim, exponent: plan.embedding }]);
  plan.layers.forEach((L, l) => {
    put(weightName.qkv(l), [
      { rows: qDim + kvDim, exponent: L.qk },
      { rows: kvDim, exponent: L.v },
    ]);
    if (L.qkNorm) put(weightName.qkNorm(l), [{ rows: 2 * config.headDim, exponent: L.qkNorm.gamma }]);
    put(weightName.output(l), [{ rows: config.dim, exponent: L.o }]);
    if (L.postNorm) {
      put(weightName.postAttnNorm(l), [{ rows: config.dim, exponent: L.postNorm.attnGamma }]);
      put(weightName.postFfnNorm(l), [{ rows: config.dim, exponent: L.postNorm.ffnGamma }]);
    }
    put(weightName.gateUp(l), [{ rows: 2 * config.hiddenDim * (config.variant?.moe?.nExperts ?? 1), exponent: L.gateUp }]);
    if (L.moe) {
      put(weightName.router(l), [{ rows: config.variant!.moe!.nExperts, exponent: L.moe.router }]);
      for (let e = 0; e < config.variant!.moe!.nExperts; e++) put(weightName.expertDown(l, e), [{ rows: config.dim, exponent: L.down }]);
    } else {
      put(weightName.down(l), [{ rows: config.dim, exponent: L.down }]);
    }
  });
  put(weightName.head, [{ rows: config.vocabSize, exponent: plan.head }]);
  return out;
}

/** Whether layer L's FFN runs the deferred-norm step under `plan` (the one condition the private program and the oracle share). */
export function ffnNormDeferredAt(plan: FixedPointPlan, L: LayerPlan): boolean {
  return plan.ffnNormDeferred === true && !L.moe && !L.postNorm;
}
