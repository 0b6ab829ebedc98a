/**
 * One decoder layer of the `ring64` private forward pass in the single-view attention mode with
 * deferred normalisation (issue 12; attention-mode.ts for the exposure): four one-way flights.
 *
 *   P0: qkv = W_qkv·x (raw residual; P1's D = x1 − V leaves offline), q, k rotated in the ring
 *   P0 → P1  views of x (fresh per-row column permutation), q, k (σ_g), v (τ_g)      [flight 2]
 *   P1: 1/rms(x), q̂, k̂, v̂, scores, softmax, P·V̂ on its permuted cache
 *   P1 → P0  head outputs under τ_g (re-shared)                                      [flight 3]
 *   P0: x += W_o·a; gate|up = W_gu·x (raw)
 *   P0 → P1  views of x (fresh) and gate|up (fresh per-row column permutation)       [flight 4]
 *   P1 → P0  silu(g/rms)·(u/rms) (re-shared); P0: x += W_down·s                      [flight 1 of the next layer]
 *
 * The user's steps are single-view-attention.ts, the oracle single-view-model.ts; the exponents
 * singleViewPlan. σ_g, τ_g (one per KV head and layer) come from k02 under a session-wide label,
 * so they stay fixed for the session (the user's cache is kept under them); every other
 * permutation is fresh per call.
 */
import { residualViewWidth } from '../../model/fixed-point/view-width.js';
import { ringAdd } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import type { FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { RingAbsoluteRope } from '../../plaintext/fixed-point/ring-absolute-rope.js';
import { ringColumns, ringGateUpBlocks } from '../../plaintext/fixed-point/ring-tensors.js';
import { deferredSwiglu, rowInverseRms, SingleViewCache, singleViewAttention } from '../../plaintext/fixed-point/single-view-attention.js';
import { assertSingleViewVariant, assertSingleViewWeights } from '../../plaintext/fixed-point/single-view-model.js';
import { singleViewPlan, type SingleViewPlan } from '../../plaintext/fixed-point/single-view-plan.js';
import { Permutation } from '../permutations/permutation.js';
import { requireKey, type PartyContext } from '../session/party-context.js';
import { ringMulW, type RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';
import { ringViewStep } from '../subprotocols/ring/ring-view-step.js';

export interface SingleViewState {
  plan: SingleViewPlan;
  rope: RingAbsoluteRope;
  /** P1's permuted K/V caches, one per layer. */
  caches: SingleViewCache[];
  /** Bytes per element of the residual views' Perm flights (model/fixed-point/view-width.ts); q, k, v and gate|up fill the ring by the plan and go as full words. */
  residualWidth: number;
  /** P0 and P2: per layer, σ_g and τ_g of each KV head (drawn on first use). */
  headPermutations: ({ sigma: Uint32Array[]; tau: Uint32Array[] } | undefined)[];
}

export function createSingleViewState(config: ModelConfig, plan: FixedPointPlan, weights: ReadonlyMap<string, RingRoleWeight>, capacity: number): SingleViewState {
  assertSingleViewVariant(config);
  assertSingleViewWeights((name) => weights.get(name)?.spec.hasBias === true, config.nLayers);
  const kvDim = config.nKvHeads * config.headDim;
  const svPlan = singleViewPlan(config, plan);
  return {
    plan: svPlan,
    residualWidth: residualViewWidth(plan, svPlan.residual),
    rope: new RingAbsoluteRope(config, plan.rope),
    caches: Array.from({ length: config.nLayers }, () => new SingleViewCache(kvDim, capacity)),
    headPermutations: Array.from({ length: config.nLayers }, () => undefined),
  };
}

function addShared(a: RingShared, b: RingShared): RingShared {
  const out: RingShared = { meta: { offlineKnown: a.meta.offlineKnown && b.meta.offlineKnown }, share: undefined, size: a.size };
  if (a.share && b.share) out.share = ringAdd(a.share, b.share);
  return out;
}

/** rows × cols, each row's columns permuted by its own fresh permutation; rows stay in place (the user must pair each view row with its 1/rms). */
function perRowColumns(ctx: PartyContext, label: string, rows: number, cols: number): Permutation {
  const prg = requireKey(ctx.k02, 'k02', ctx.role).prg(label);
  const dest = new Uint32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const p = prg.permutation(cols);
    for (let c = 0; c < cols; c++) dest[r * cols + c] = r * cols + p[c]!;
  }
  return Permutation.fromDestinations(dest);
}

/** rows × heads·headDim, head h's coordinates permuted by perms[group(h)]. */
function perHead(perms: Uint32Array[], rows: number, heads: number, headDim: number): Permutation {
  const group = heads / perms.length;
  const width = heads * headDim;
  const dest = new Uint32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const p = perms[Math.floor(h / group)]!;
      for (let d = 0; d < headDim; d++) dest[r * width + h * headDim + d] = r * width + h * headDim + p[d]!;
    }
  }
  return Permutation.fromDestinations(dest);
}

function headPermutations(ctx: PartyContext, sv: SingleViewState, c: ModelConfig, l: number): { sigma: Uint32Array[]; tau: Uint32Array[] } {
  let p = sv.headPermutations[l];
  if (!p) {
    const prg = requireKey(ctx.k02, 'k02', ctx.role).prg(`single-view/layer/${l}/head-permutations`);
    const sigma = Array.from({ length: c.nKvHeads }, () => prg.permutation(c.headDim));
    const tau = Array.from({ length: c.nKvHeads }, () => prg.permutation(c.headDim));
    p = { sigma, tau };
    sv.headPermutations[l] = p;
  }
  return p;
}

/** Layer l on the residual x [rows, dim] at sv.plan.residual; returns the new residual. */
export async function singleViewLayer(ctx: PartyContext, config: ModelConfig, weight: (name: string) => RingRoleWeight, sv: SingleViewState, x: RingShared, rows: number, start: number, l: number): Promise<RingShared> {
  const c = config;
  const L = sv.plan.layers[l]!;
  const R = sv.plan.residual;
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const width = qDim + 2 * kvDim;
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
  const heads = () => headPermutations(ctx, sv, c, l);

  const qkv = await ringMulW(ctx, weight(weightName.qkv(l)), x, rows, R);
  const q = ringLocal(qkv, rows * qDim, (s) => sv.rope.rotateRows(ringColumns(s, rows, width, 0, qDim), rows, c.nHeads, start));
  const k = ringLocal(qkv, rows * kvDim, (s) => sv.rope.rotateRows(ringColumns(s, rows, width, qDim, kvDim), rows, c.nKvHeads, start));
  const v = ringLocal(qkv, rows * kvDim, (s) => ringColumns(s, rows, width, qDim + kvDim, kvDim));
  const [attended] = await ringViewStep(
    ctx,
    [
      { x, permutation: (step) => perRowColumns(ctx, `${step}/pi/x`, rows, c.dim), width: sv.residualWidth },
      { x: q, permutation: () => perHead(heads().sigma, rows, c.nHeads, c.headDim) },
      { x: k, permutation: () => perHead(heads().sigma, rows, c.nKvHeads, c.headDim) },
      { x: v, permutation: () => perHead(heads().tau, rows, c.nKvHeads, c.headDim) },
    ],
    [{ size: rows * qDim, permutation: () => perHead(heads().tau, rows, c.nHeads, c.headDim) }],
    async ([xView, qView, kView, vView]) => {
      const inv = rowInverseRms(xView!, rows, c.dim, c.normEps, R);
      return [await singleViewAttention(ctx.backend, shape, L, sv.caches[l]!, inv, qView!, kView!, vView!, rows, start)];
    },
  );
  x = addShared(x, await ringMulW(ctx, weight(weightName.output(l)), attended!, rows, L.attention));

  const gateUp = await ringMulW(ctx, weight(weightName.gateUp(l)), x, rows, R);
  const blocks = ringLocal(gateUp, 2 * rows * c.hiddenDim, (s) => ringGateUpBlocks(s, rows, c.hiddenDim));
  let mlpPermutation: { step: number; p: Permutation } | undefined;
  const mlp = (step: number): Permutation => {
    if (mlpPermutation?.step !== step) mlpPermutation = { step, p: perRowColumns(ctx, `${step}/pi/gate-up`, rows, c.hiddenDim) };
    return mlpPermutation.p;
  };
  const [activated] = await ringViewStep(
    ctx,
    [
      { x, permutation: (step) => perRowColumns(ctx, `${step}/pi/x`, rows, c.dim), width: sv.residualWidth },
      { x: blocks, permutation: mlp },
    ],
    [{ size: rows * c.hiddenDim, permutation: mlp }],
    async ([xView, guView]) => {
      const inv = rowInverseRms(xView!, rows, c.dim, c.normEps, R);
      return [deferredSwiglu(guView!, rows, c.hiddenDim, inv, L.rawGateUp, L.ffn)];
    },
  );
  return addShared(x, await ringMulW(ctx, weight(weightName.down(l)), activated!, rows, L.ffn));
}
