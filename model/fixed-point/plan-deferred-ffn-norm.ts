/**
 * Deferred FFN normalisation in the paper-exposure (beaver) schedule of the `ring64` profile
 * (issue 12): the engine applies W_gate|up (γ folded) to the un-normalised residual x, and the
 * user, who gets a permuted view of x in the SwiGLU step's own flight, computes 1/rms(x) per row
 * and evaluates silu(g·r⁻¹)·(u·r⁻¹). The norm's own round trip goes: 10 one-way flights per layer
 * instead of 12.
 *
 * The price is in bits. The ring has no exact truncation, so the raw products W_gu·x carry the
 * residual's exponent R: R + e_gu + ⌈log2 max|W_gu x|⌉ ≤ 61 − headroom, with max|W_gu x| the
 * calibrated range rawGateUp (the bound max|W_gu x̂| · max|x| for a plan calibrated without
 * it). The paper schedule puts R at the top of the ring (P·V·W_o lands on R with no
 * truncation: R = e_p + e_n + e_v + e_o), so that inequality fails by about 15 bits on
 * stories260K (R 53, e_gu 16, max|W_gu x| 7.3). Both constraints hold only with R lowered and
 * those bits taken from the weights and the probabilities:
 *   e_p + e_v + e_o + e_gu ≤ top − ⌈log2 max|W_gu x|⌉ − e_n.
 * deferredFfnNormExponents spends that budget greedily, always lowering the value with the most
 * precision bits (a weight's bits: e + log2 max|W|; the probabilities' bits: e_p, kept at or above
 * 10), and refuses (undefined: the engine keeps the 12-flight plan) where every one would drop
 * below 9 bits: the synthetic 100M and one-8B-layer presets are refused (their small weights carry
 * high exponents, so the chain R = e_p + e_n + e_v + e_o is long), stories260K fits. The weights are then quantised at the lowered exponents: the same int16
 * format, fewer bits used.
 *
 * Only the plain Llama layer qualifies (RMSNorm, RoPE, SwiGLU, no bias on gate|up): a variant
 * step (q/k norm, post-norms, GELU or clamped gates, MoE, sinks, windows, soft-caps) keeps the
 * 12-flight schedule, so that no step is ever skipped.
 */
import type { ModelConfig } from '../model-description.js';
import type { FoldedWeight } from './folded-weights.js';
import { weightName } from './folded-weights.js';
import { maxAbsOf } from './fixed-point-weights.js';
import { log2Ceil, need } from './plan-errors.js';

/** The plan format of a plan with deferred FFN normalisation: an older peer's card schema refuses it. */
export const DEFERRED_FFN_NORM_FORMAT = 'permllm-fixed-point/2';

/**
 * Fewest precision bits a weight may keep (e + log2 max|W|). Measured: at about 8.8 bits
 * (dim256-vocab32k, seed 7) the greedy text left the float plaintext's at the fourth token; at 9
 * and above on stories260K, the synthetic GQA and Qwen2-like shapes it stays.
 */
const MIN_WEIGHT_BITS = 9;
const MIN_PROB_BITS = 10;
/** The probabilities give up a bit only when they hold this many more bits than every weight (stories260K over 24 steps, raw products sized from the bound max|W_gu x̂|·max|x|: 7.6e-3 relative logit error at 2, 9.5e-3 at 4, 1.0e-2 at 6; at 0 its plan ran out of bits). */
const PROB_BIAS = 2;

/** The exponents of one layer this step changes (the rest of the layer plan stays). */
export interface DeferrableLayer {
  attnNorm: number;
  probs: number;
  v: number;
  o: number;
  gateUp: number;
  ffn: number;
  down: number;
}

/** Whether the model's layers are the plain Llama layer the deferred step implements. */
export function deferredFfnNormEligible(config: Pick<ModelConfig, 'variant' | 'nLayers'>, folded: ReadonlyMap<string, FoldedWeight>): boolean {
  const v = config.variant;
  if (v && Object.entries(v).some(([key, value]) => value !== undefined && !(key === 'activation' && value === 'silu'))) return false;
  for (let l = 0; l < config.nLayers; l++) if (need(folded, weightName.gateUp(l)).bias) return false;
  return true;
}

/**
 * The residual exponent and the layers' exponents of the deferred plan, from the paper plan's
 * `layers` (top = 61 − headroom; `embedding`: the embedding weight's exponent, which R may not go
 * below); undefined when the model's ranges leave too few bits.
 */
export function deferredFfnNormExponents(
  config: Pick<ModelConfig, 'nHeads' | 'nKvHeads' | 'headDim'>,
  folded: ReadonlyMap<string, FoldedWeight>,
  base: { layers: readonly DeferrableLayer[]; embedding: number; ranges: { residual: number; gateUp: number; ffn: number; attention: number; rawGateUp?: number | undefined } },
  top: number,
): { residual: number; layers: DeferrableLayer[] } | undefined {
  const r = base.ranges;
  // The calibrated maximum of W_gu·x where measured (like every other range of the plan), else the bound max|W_gu x̂| · max|x|.
  const raw = log2Ceil(r.rawGateUp ?? r.gateUp * r.residual);
  const qDim = config.nHeads * config.headDim;
  const kvDim = config.nKvHeads * config.headDim;
  // log2 max|W| of each weight the budget is taken from (a weight at exponent e uses e + this many bits).
  const scale = (w: FoldedWeight, from = 0, to = w.data.length) => Math.log2(Math.max(maxAbsOf(w.data, from, to), 2 ** -30));
  const lowered: DeferrableLayer[] = [];
  for (const [l, L] of base.layers.entries()) {
    const qkv = need(folded, weightName.qkv(l));
    const bits = { v: scale(qkv, (qDim + kvDim) * qkv.inDim), o: scale(need(folded, weightName.output(l))), gateUp: scale(need(folded, weightName.gateUp(l))) };
    const e = { probs: L.probs, v: L.v, o: L.o, gateUp: L.gateUp };
    const budget = top - raw - L.attnNorm; // e_p + e_v + e_o + e_gu ≤ budget
    while (e.probs + e.v + e.o + e.gateUp > budget) {
      const options: [keyof typeof e, number][] = (['v', 'o', 'gateUp'] as const).map((k): [keyof typeof e, number] => [k, e[k] + bits[k]]).filter(([, b]) => b - 1 >= MIN_WEIGHT_BITS);
      if (e.probs - 1 >= MIN_PROB_BITS) options.push(['probs', e.probs - PROB_BIAS]);
      if (options.length === 0) return undefined;
      const [name] = options.reduce((a, b) => (b[1] > a[1] ? b : a));
      e[name]--;
    }
    lowered.push({ ...L, ...e });
  }
  // One residual exponent for the whole stream: the lowest any layer needs; the others' probabilities absorb the difference.
  const residual = Math.min(...lowered.map((L) => L.probs + L.attnNorm + L.v + L.o));
  if (residual < base.embedding) return undefined;
  const layers = lowered.map((L) => ({ ...L, probs: residual - L.attnNorm - L.v - L.o, ffn: residual - L.down }));
  for (const L of layers) {
    if (L.probs < MIN_PROB_BITS || L.down > residual || L.ffn + log2Ceil(r.ffn) > top) return undefined;
    if (L.probs + L.attnNorm + L.v + log2Ceil(r.attention) > top) return undefined;
    if (residual + L.gateUp + raw > top) return undefined;
  }
  return { residual, layers };
}
