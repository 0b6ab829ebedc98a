/**
 * How many bytes per element a permuted view's Perm flights carry (issue 12: "no more bytes than
 * their values need"), from the fixed-point plan's bounds. One definition shared by the private
 * program (protocol/subprotocols/ring/ring-narrowing.ts) and the fixed-point oracle, which checks
 * every narrowed view's plaintext values against it (plaintext/fixed-point/view-width-check.ts).
 *
 * The rule generalises the plan's own range check (fixed-point-plan.ts): today every view's
 * integer must stay below 2^61 = 2^(64 − 3), values up to 2^headroom times the calibrated range
 * pass and two more bits are detected. A view carried in w bytes keeps the same three bits: its
 * integers must stay below 2^(8w − 3) (checked by the user after sign-extending, and by the
 * oracle on the true values), values up to 2^headroom times the calibrated range pass, up to
 * 2^(8w − 1) are detected, only larger ones could wrap unseen (as only those beyond 2^63 can
 * today). So w is the least byte count with
 *   exponent + ⌈log2 calibrated max⌉ + headroom + 3 ≤ 8w,
 * capped at 8 (no narrowing). Views that hold the causal or window mask (−2^62, which decodes as
 * −∞) are never narrowed: the mask lives in bits a narrower view would drop.
 */
import { ffnNormDeferredAt, type FixedPointPlan, type LayerPlan } from './fixed-point-plan.js';
import { log2Ceil } from './plan-errors.js';

/** Bytes of an unnarrowed ring64 word. */
export const FULL_VIEW_WIDTH = 8;

/** Bits below the top of a w-byte view that legitimate integers must stay under (61 for w = 8, as RING_VALUE_LIMIT_BITS). */
export const VIEW_LIMIT_MARGIN_BITS = 3;

/** The width for a view at `exponent` whose calibrated max |value| is `calibratedMax`. */
export function viewWidth(plan: FixedPointPlan, exponent: number, calibratedMax: number | undefined): number {
  if (calibratedMax === undefined || !Number.isFinite(calibratedMax)) return FULL_VIEW_WIDTH;
  const bits = exponent + log2Ceil(calibratedMax) + plan.headroomBits + VIEW_LIMIT_MARGIN_BITS;
  return Math.max(1, Math.min(FULL_VIEW_WIDTH, Math.ceil(bits / 8)));
}

/** The residual stream's RMSNorm inputs (attention and FFN norms, the final norm, the embedding pool's norm). */
export const residualViewWidth = (plan: FixedPointPlan, residualExp = plan.residual): number => viewWidth(plan, residualExp, plan.ranges.residual);

/** SwiGLU / GeGLU inputs: the gate and up blocks at ffnNorm + gateUp. */
export const gateUpViewWidth = (plan: FixedPointPlan, L: LayerPlan): number => viewWidth(plan, L.ffnNorm + L.gateUp, plan.ranges.gateUp);

/** The deferred-norm step's gate and up blocks: W_gate|up on the raw residual, at residual + gateUp (plan-deferred-ffn-norm.ts). */
export const deferredGateUpViewWidth = (plan: FixedPointPlan, L: LayerPlan): number => viewWidth(plan, plan.residual + L.gateUp, plan.ranges.rawGateUp);

/** The SwiGLU inputs of layer L, in whichever step the plan runs them. */
export const swigluViewWidth = (plan: FixedPointPlan, L: LayerPlan): number => (ffnNormDeferredAt(plan, L) ? deferredGateUpViewWidth(plan, L) : gateUpViewWidth(plan, L));

/** Per-head q/k norm inputs at attnNorm + qk (the raw q and k heads). */
export const qkNormViewWidth = (plan: FixedPointPlan, L: LayerPlan): number => viewWidth(plan, L.attnNorm + L.qk, plan.ranges.qkRaw);

/** Post-norm inputs (the o and down outputs at postNorm.raw). */
export const postNormViewWidth = (plan: FixedPointPlan, raw: number): number => viewWidth(plan, raw, plan.ranges.postRaw);

/** The MoE step's one Perm message: router logits at moe.logits beside the gate/up blocks; the wider of the two. */
export const moeViewWidth = (plan: FixedPointPlan, L: LayerPlan): number => Math.max(L.moe ? viewWidth(plan, L.moe.logits, plan.ranges.router) : FULL_VIEW_WIDTH, gateUpViewWidth(plan, L));

/** Attention scores: they carry the causal / window mask, so they are never narrowed. */
export const scoresViewWidth = (): number => FULL_VIEW_WIDTH;
