/**
 * Deferred FFN normalisation in the paper-exposure (beaver) schedule of the `ring64` profile
 * (issue 12): the engine applies W_gate|up (γ folded) to the un-normalised residual x, and the
 * user, who gets a permuted view of x in the SwiGLU step's own flight, computes 1/rms(x) per row
 * and evaluates silu(g·r⁻¹)·(u·r⁻¹). The norm's own round trip goes: 10 one-way flights per layer
 * instead of 12.
 *
 * The price is in bits. The ring has no exact truncation, so the raw products W_gu·x carry the
 * residual's exponent R: R + e_gu + ⌈log2(max|W_gu x̂| · max|x|)⌉ ≤ 61 − headroom (rms(x) ≤
 * max|x|). The paper schedule puts R at the top of the ring (P·V·W_o lands on R with no
 * truncation: R = e_p + e_n + e_v + e_o), so that inequality fails by about 18 bits on
 * stories260K. Both constraints hold only with R lowered and the 18 bits taken from the weights
 * and the probabilities:
 *   e_p + e_v + e_o + e_gu = top − ⌈log2 raw gate/up bound⌉ − e_n.
 * derive() spends that budget greedily, always lowering the value with the most precision bits
 * (a weight's bits: e + log2 max|W|; the probabilities' bits: e_p, kept at or above 10), and
 * refuses (undefined: the engine keeps the 12-flight plan) where every one would drop below 8
 * bits. The weights are then quantised at the lowered exponents: the same int16 format, fewer
 * bits used.
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
import { RING_VALUE_LIMIT_BITS, type FixedPointPlan } from './fixed-point-plan.js';

/** The plan format of a plan with deferred FFN normalisation: an older peer's card schema refuses it. */
export const DEFERRED_FFN_NORM_FORMAT = 'permllm-fixed-point/2';

const MIN_WEIGHT_BITS = 8;
const MIN_PROB_BITS = 10;
/** The probabilities give up a bit only when they hold this many more bits than every weight (stories260K over 24 steps: 7.6e-3 relative logit error at 2, 9.5e-3 at 4, 1.0e-2 at 6; at 0 its plan runs out of bits). */
const PROB_BIAS = 2;

/** Whether the model's layers are the plain Llama layer the deferred step implements. */
export function deferredFfnNormEligible(config: Pick<ModelConfig, 'variant' | 'nLayers'>, folded: ReadonlyMap<string, FoldedWeight>): boolean {
  const v = config.variant;
  if (v && Object.entries(v).some(([key, value]) => value !== undefined && !(key === 'activation' && value === 'silu'))) return false;
  for (let l = 0; l < config.nLayers; l++) if (need(folded, weightName.gateUp(l)).bias) return false;
  return true;
}

/** The deferred plan derived from the paper plan `base`, or undefined when the model's ranges leave too few bits. */
export function deriveDeferredFfnNorm(config: ModelConfig, folded: ReadonlyMap<string, FoldedWeight>, base: FixedPointPlan): FixedPointPlan | undefined {
  if (!deferredFfnNormEligible(config, folded)) return undefined;
  const top = RING_VALUE_LIMIT_BITS - base.headroomBits;
  const r = base.ranges;
  const raw = log2Ceil(r.gateUp * r.residual);
  const qDim = config.nHeads * config.headDim;
  const kvDim = config.nKvHeads * config.headDim;
  // log2 max|W| of each weight the budget is taken from (a weight at exponent e uses e + this many bits).
  const scale = (w: FoldedWeight, from = 0, to = w.data.length) => Math.log2(Math.max(maxAbsOf(w.data, from, to), 2 ** -30));
  const bits = base.layers.map((_, l) => {
    const qkv = need(folded, weightName.qkv(l));
    return {
      v: scale(qkv, (qDim + kvDim) * qkv.inDim),
      o: scale(need(folded, weightName.output(l))),
      gateUp: scale(need(folded, weightName.gateUp(l))),
    };
  });
  const layers = base.layers.map((L, l) => {
    const s = bits[l]!;
    const e = { probs: L.probs, v: L.v, o: L.o, gateUp: L.gateUp };
    const budget = top - raw - L.attnNorm;
    while (e.probs + e.v + e.o + e.gateUp > budget) {
      const candidates: [keyof typeof e, number][] = [
        ['v', e.v + s.v],
        ['o', e.o + s.o],
        ['gateUp', e.gateUp + s.gateUp],
      ];
      const options = candidates.filter(([, b]) => b - 1 >= MIN_WEIGHT_BITS);
      if (e.probs - 1 >= MIN_PROB_BITS) options.push(['probs', e.probs - PROB_BIAS]);
      if (options.length === 0) return undefined;
      const [name] = options.reduce((a, b) => (b[1] > a[1] ? b : a));
      e[name]--;
    }
    return { ...L, ...e, residual: e.probs + L.attnNorm + e.v + e.o };
  });
  if (layers.some((L) => L === undefined)) return undefined;
  // One residual exponent for the whole stream: the lowest any layer needs; the others' probabilities absorb the difference.
  const residual = Math.min(...layers.map((L) => L!.residual));
  if (residual < base.embedding) return undefined;
  const out: FixedPointPlan = {
    ...base,
    format: DEFERRED_FFN_NORM_FORMAT,
    ffnNormDeferred: true,
    residual,
    onehot: residual - base.embedding,
    layers: layers.map((L) => {
      const { residual: _own, ...rest } = L!;
      const probs = residual - rest.attnNorm - rest.v - rest.o;
      return { ...rest, probs, ffn: residual - rest.down };
    }),
  };
  for (const L of out.layers) {
    if (L.probs < MIN_PROB_BITS || L.down > residual || L.ffn + log2Ceil(r.ffn) > top) return undefined;
    if (L.probs + L.attnNorm + L.v + log2Ceil(r.attention) > top) return undefined;
  }
  return out;
}
