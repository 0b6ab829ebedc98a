/**
 * The private forward pass under the `ring64` profile: the same schedule as forward-program.ts
 * (Elem(RMSNorm) → MulW(qkv, V = B′) → MulKV(scores) → Elem(softmax) → MulKV(P·V) → MulW(o) →
 * residual → Elem(RMSNorm) → MulW(gate|up) → Elem(SwiGLU) → MulW(down) → residual), on shares
 * in Z_2^64 with the exponents of the model's fixed-point plan. It mirrors the fixed-point
 * oracle (plaintext/fixed-point/fixed-point-model.ts) step for step, which is what makes the
 * private logits equal the oracle's bit for bit. RoPE is not a local step here: it is folded
 * into the scores' bilinear form (ring-attention.ts). Where the plan defers the FFN norm
 * (ffnNormDeferred: dense Llama layers, plan-deferred-ffn-norm.ts), the MLP half is
 * ring-deferred-ffn-step.ts instead: 10 one-way flights per layer instead of 12. Where the plan's
 * rule allows (fusedValuesBytes, plan-fused-values.ts), softmax and P·V are one step
 * (ring-fused-values.ts) and MulW(o)'s input leaves with the softmax return: two flights fewer,
 * 8 per layer on stories260K decode (10 where the FFN norm is not deferred).
 */
import { gateUpViewWidth, postNormViewWidth, qkNormViewWidth, residualViewWidth } from '../../model/fixed-point/view-width.js';
import { ringAdd } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import { ffnNormDeferredAt, type FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import { RingRope } from '../../plaintext/fixed-point/ring-attention.js';
import { ringColumns, ringGateUpBlocks, ringOnehot } from '../../plaintext/fixed-point/ring-tensors.js';
import type { PartyContext } from '../session/party-context.js';
import { ringElem } from '../subprotocols/ring/ring-elem.js';
import { ringCausalSoftmax } from '../subprotocols/ring/ring-causal-softmax.js';
import { causalSize } from '../subprotocols/ring/ring-causal.js';
import { ringFusedSoftmaxValues } from '../subprotocols/ring/ring-fused-values.js';
import { fusedValuesAt } from '../../model/fixed-point/plan-fused-values.js';
import { RingKvMemory, ringScoresKV, ringValuesKV } from '../subprotocols/ring/ring-mul-kv.js';
import { ringMulW, type RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringLocal, type RingShared } from '../subprotocols/ring/ring-shared.js';
import { PREFILL_CHUNK_ROWS } from './forward-program.js';
import { ringQkNormStep } from './ring-qk-norm-step.js';
import { ringPostNormStep } from './ring-post-norm-step.js';
import { addWindowMask, attentionSoftmax, layerWindow, ringLayerRopes } from '../../plaintext/fixed-point/ring-layer-variant.js';
import { ringMoeFfn } from './ring-moe-ffn.js';
import type { AttentionMode } from './attention-mode.js';
import { ringDeferredFfn } from './ring-deferred-ffn-step.js';
import { createSingleViewState, singleViewLayer, type SingleViewState } from './ring-single-view-layer.js';

export interface RingForwardState {
  config: ModelConfig;
  plan: FixedPointPlan;
  weights: ReadonlyMap<string, RingRoleWeight>;
  rope: RingRope;
  /** Each layer's RoPE (Gemma 3's windowed layers have their own). */
  layerRopes: RingRope[];
  memories: RingKvMemory[];
  /** Set in the single-view attention mode (ring-single-view-layer.ts), which replaces the layers' schedule. */
  singleView?: SingleViewState;
}

export function createRingForwardState(config: ModelConfig, plan: FixedPointPlan, weights: ReadonlyMap<string, RingRoleWeight>, capacity: number, attention: AttentionMode = 'beaver'): RingForwardState {
  const kvDim = config.nKvHeads * config.headDim;
  const rope = RingRope.forConfig(config, plan.rope);
  const state: RingForwardState = {
    config,
    plan,
    weights,
    rope,
    layerRopes: ringLayerRopes(config, plan.rope, rope),
    memories: attention === 'beaver' ? Array.from({ length: config.nLayers }, () => new RingKvMemory(kvDim, capacity, plan.fusedValuesBytes !== undefined)) : [],
  };
  if (attention === 'single-view') state.singleView = createSingleViewState(config, plan, weights, capacity);
  return state;
}

function weight(state: RingForwardState, name: string): RingRoleWeight {
  const w = state.weights.get(name);
  if (!w) throw new Error(`no weight ${name}`);
  return w;
}

function addShared(a: RingShared, b: RingShared): RingShared {
  const out: RingShared = { meta: { offlineKnown: a.meta.offlineKnown && b.meta.offlineKnown }, share: undefined, size: a.size };
  if (a.share && b.share) out.share = ringAdd(a.share, b.share);
  return out;
}

/** Embedding, layers, final norm and LM head → shared ring logits at exponent plan.logits. */
export async function ringPrivateForward(ctx: PartyContext, state: RingForwardState, tokens: readonly number[] | undefined, rows: number, start: number): Promise<RingShared> {
  const { config: c, plan } = state;
  if (ctx.role === 'gateway' && (!tokens || tokens.length !== rows)) throw new Error(`ringPrivateForward: gateway must supply ${rows} tokens`);
  // Long prompts in chunks (PREFILL_CHUNK_ROWS, as the float program): integer arithmetic makes
  // every chunk's rows exactly what one pass over the whole prompt computes.
  let last: RingShared | undefined;
  for (let offset = 0; offset < rows; offset += PREFILL_CHUNK_ROWS) {
    const n = Math.min(PREFILL_CHUNK_ROWS, rows - offset);
    last = await ringChunk(ctx, state, tokens?.slice(offset, offset + n), n, start + offset);
  }
  if (!last) throw new RangeError('ringPrivateForward: no rows');
  const residualExp = state.singleView?.plan.residual ?? plan.residual;
  const normed = await ringElem(ctx, last, { kind: 'rmsnorm', rows: 1, cols: c.dim, eps: c.normEps, inExp: residualExp, outExp: plan.finalNorm }, residualViewWidth(plan, residualExp));
  return ringMulW(ctx, weight(state, weightName.head), normed, 1, plan.finalNorm);
}

/**
 * Embedding and every layer for `rows` consecutive positions from `start`; the last row's
 * residual, or every row's ([rows, dim]) with `allRows` (the embedding pass pools them).
 */
export async function ringChunk(ctx: PartyContext, state: RingForwardState, tokens: readonly number[] | undefined, rows: number, start: number, allRows = false): Promise<RingShared> {
  const { config: c, plan, singleView } = state;
  const onehotExp = singleView?.plan.onehot ?? plan.onehot;
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const width = qDim + 2 * kvDim;
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
  const onehot: RingShared = { meta: { offlineKnown: false }, share: undefined, size: rows * c.vocabSize };
  if (ctx.role === 'engine') onehot.share = new BigUint64Array(rows * c.vocabSize);
  if (ctx.role === 'gateway') {
    if (!tokens || tokens.length !== rows) throw new Error(`ringPrivateForward: gateway must supply ${rows} tokens`);
    onehot.share = ringOnehot(tokens, c.vocabSize, onehotExp);
  }
  let x = await ringMulW(ctx, weight(state, weightName.embedding), onehot, rows, onehotExp);
  for (let l = 0; l < c.nLayers; l++) {
    ctx.onLayerStart?.(l);
    if (singleView) {
      x = await singleViewLayer(ctx, c, (name) => weight(state, name), singleView, x, rows, start, l);
      continue;
    }
    const L = plan.layers[l]!;
    const memory = state.memories[l]!;
    const normed = await ringElem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps, inExp: plan.residual, outExp: L.attnNorm }, residualViewWidth(plan));
    const qkv = await ringMulW(ctx, weight(state, weightName.qkv(l)), normed, rows, L.attnNorm);
    let q = ringLocal(qkv, rows * qDim, (s) => ringColumns(s, rows, width, 0, qDim));
    let k = ringLocal(qkv, rows * kvDim, (s) => ringColumns(s, rows, width, qDim, kvDim));
    if (L.qkNorm) ({ q, k } = await ringQkNormStep(ctx, c, L, weight(state, weightName.qkNorm(l)), qkv, rows, qkNormViewWidth(plan, L)));
    const v = ringLocal(qkv, rows * kvDim, (s) => ringColumns(s, rows, width, qDim + kvDim, kvDim));
    const scores = await ringScoresKV(ctx, shape, state.layerRopes[l]!, memory, q, k, v, rows, start);
    const keys = memory.length;
    const window = layerWindow(c, l);
    if (window !== undefined && ctx.role === 'engine') addWindowMask(scores.share!, c.nHeads, rows, keys, start, window);
    // Only the causal lower triangle crosses the link (ring-causal.ts): keys = start + rows.
    const causal = { heads: c.nHeads, rows, start: keys - rows };
    const softmax = attentionSoftmax(c);
    // P·V in the softmax's own flights where the plan's one rule allows (plan-fused-values.ts), else the Beaver product.
    const attended = fusedValuesAt(plan, c, causalSize(causal))
      ? await ringFusedSoftmaxValues(ctx, shape, memory, scores, causal, { scale: softmax.scale, inExp: L.scores, outExp: L.probs, softcap: softmax.softcap })
      : await ringValuesKV(ctx, shape, memory, await ringCausalSoftmax(ctx, scores, causal, softmax.scale, L.scores, L.probs, softmax.softcap), rows, causal);
    let o = await ringMulW(ctx, weight(state, weightName.output(l)), attended, rows, L.probs + L.attnNorm + L.v);
    if (L.postNorm) o = await ringPostNormStep(ctx, c, weight(state, weightName.postAttnNorm(l)), o, rows, L.postNorm.raw, L.postNorm.out, postNormViewWidth(plan, L.postNorm.raw));
    x = addShared(x, o);
    if (ffnNormDeferredAt(plan, L)) {
      x = addShared(x, await ringDeferredFfn(ctx, c, plan, L, weight(state, weightName.gateUp(l)), weight(state, weightName.down(l)), x, rows));
      continue;
    }
    const normed2 = await ringElem(ctx, x, { kind: 'rmsnorm', rows, cols: c.dim, eps: c.normEps, inExp: plan.residual, outExp: L.ffnNorm }, residualViewWidth(plan));
    if (L.moe) {
      x = addShared(x, await ringMoeFfn(ctx, state, normed2, rows, l));
      continue;
    }
    const gateUp = await ringMulW(ctx, weight(state, weightName.gateUp(l)), normed2, rows, L.ffnNorm);
    const blocks = ringLocal(gateUp, 2 * rows * c.hiddenDim, (s) => ringGateUpBlocks(s, rows, c.hiddenDim));
    const gate = c.variant?.activation === 'gelu-tanh' ? 'geglu' : 'swiglu';
    const activated = await ringElem(ctx, blocks, { kind: gate, length: rows * c.hiddenDim, inExp: L.ffnNorm + L.gateUp, outExp: L.ffn }, gateUpViewWidth(plan, L));
    let down = await ringMulW(ctx, weight(state, weightName.down(l)), activated, rows, L.ffn);
    if (L.postNorm) down = await ringPostNormStep(ctx, c, weight(state, weightName.postFfnNorm(l)), down, rows, L.postNorm.raw, L.postNorm.out, postNormViewWidth(plan, L.postNorm.raw));
    x = addShared(x, down);
  }
  ctx.onLayerStart?.(c.nLayers); // end marker: flights per layer are measured for one layer too
  if (allRows) return x;
  return ringLocal(x, c.dim, (s) => s.slice((rows - 1) * c.dim, rows * c.dim));
}
