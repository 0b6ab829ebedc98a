/**
 * The fixed-point oracle of the single-view attention mode with deferred normalisation (issue
 * 12): the forward pass on ring integers in the order the private schedule
 * (protocol/schedule/ring-single-view-layer.ts) computes it, on unpermuted values. Same int16
 * weights as the paper-schedule oracle (fixed-point-model.ts); exponents from singleViewPlan.
 * Per layer: qkv = W_qkv·x on the raw residual, q, k rotated in the ring
 * (ring-absolute-rope.ts), attention with 1/rms(x) applied by the user's step
 * (single-view-attention.ts), x += W_o·a, gate|up = W_gu·x raw, SwiGLU with 1/rms(x) applied,
 * x += W_down·s. The final RMSNorm and the LM head are the paper schedule's.
 */
import { residualViewWidth } from '../../model/fixed-point/view-width.js';
import { checkViewWidth } from './view-width-check.js';
import { ringLinearInt } from '../../compute/ring-gemm.js';
import { ringAddInto, type Ring } from '../../compute/ring64.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import type { ModelConfig } from '../../model/model-description.js';
import { decodeLogits, rmsnormFixed } from './fixed-point-elem.js';
import type { FixedPointModel } from './fixed-point-model.js';
import { RingAbsoluteRope } from './ring-absolute-rope.js';
import { addBiasRows, ringBias, ringColumns, ringGateUpBlocks, ringOnehot } from './ring-tensors.js';
import { deferredSwiglu, rowInverseRms, SingleViewCache, singleViewAttention } from './single-view-attention.js';
import { singleViewPlan, SingleViewPlanError, type SingleViewPlan } from './single-view-plan.js';

/**
 * The mode runs the Llama-style layer only (RMSNorm, RoPE, SwiGLU): a model variant with any
 * other step (q/k norms, post-norms, windows, soft-caps, MoE, …) is refused, so that a step added
 * to the paper schedule is never silently skipped here.
 */
export function assertSingleViewVariant(config: Pick<ModelConfig, 'variant'>): void {
  const v = config.variant;
  if (!v) return;
  const extra = Object.entries(v).filter(([key, value]) => value !== undefined && !(key === 'activation' && value === 'silu'));
  if (extra.length > 0) throw new SingleViewPlanError(`single-view mode: the model needs steps it does not implement (${extra.map(([k]) => k).join(', ')})`);
}

/** The weights whose bias would have to be added after 1/rms: the mode refuses them. */
export function assertSingleViewWeights(hasBias: (name: string) => boolean, nLayers: number): void {
  for (let l = 0; l < nLayers; l++) {
    for (const name of [weightName.qkv(l), weightName.gateUp(l)]) {
      if (hasBias(name)) throw new SingleViewPlanError(`single-view mode: ${name} has a bias, which deferred normalisation cannot carry`);
    }
  }
}

export class SingleViewSequence {
  readonly plan: SingleViewPlan;
  private readonly rope: RingAbsoluteRope;
  private readonly caches: SingleViewCache[];
  private length = 0;

  constructor(private readonly m: FixedPointModel) {
    const c = m.config;
    assertSingleViewVariant(c);
    assertSingleViewWeights((name) => m.weight(name).bias !== undefined, c.nLayers);
    this.plan = singleViewPlan(c, m.plan);
    this.rope = new RingAbsoluteRope(c, m.plan.rope);
    this.caches = Array.from({ length: c.nLayers }, () => new SingleViewCache(c.nKvHeads * c.headDim, 64));
  }

  get position(): number {
    return this.length;
  }

  prefill(tokens: readonly number[]): Promise<Ring> {
    return this.forward(tokens);
  }

  decode(token: number): Promise<Ring> {
    return this.forward([token]);
  }

  decodeLogits(logits: Ring): Float64Array {
    return decodeLogits(logits, this.m.plan.logits);
  }

  private async linear(name: string, x: Ring, rows: number, inExp: number): Promise<Ring> {
    const w = this.m.weight(name);
    const y = await ringLinearInt(this.m.backend, x, rows, w.data, w.outDim, w.inDim);
    if (w.bias) addBiasRows(y, rows, ringBias(w.bias, w.blocks, inExp));
    return y;
  }

  private async forward(tokens: readonly number[]): Promise<Ring> {
    const { config: c, backend } = this.m;
    const sv = this.plan;
    const T = tokens.length;
    const start = this.length;
    if (T === 0) throw new RangeError('forward: tokens is empty');
    if (start + T > c.maxSeqLen) throw new RangeError(`forward: positions ${start}..${start + T - 1} exceed the context length ${c.maxSeqLen}`);
    const qDim = c.nHeads * c.headDim;
    const kvDim = c.nKvHeads * c.headDim;
    const width = qDim + 2 * kvDim;
    const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
    const x = await this.linear(weightName.embedding, ringOnehot(tokens, c.vocabSize, sv.onehot), T, sv.onehot);
    for (let l = 0; l < c.nLayers; l++) {
      const L = sv.layers[l]!;
      const qkv = await this.linear(weightName.qkv(l), x, T, sv.residual);
      const q = this.rope.rotateRows(ringColumns(qkv, T, width, 0, qDim), T, c.nHeads, start);
      const k = this.rope.rotateRows(ringColumns(qkv, T, width, qDim, kvDim), T, c.nKvHeads, start);
      const v = ringColumns(qkv, T, width, qDim + kvDim, kvDim);
      // The residual views are narrowed in the private run (view-width.ts): their values must fit.
      checkViewWidth(x, residualViewWidth(this.m.plan, sv.residual), 'view 0');
      const inv = rowInverseRms(x, T, c.dim, c.normEps, sv.residual);
      const attended = await singleViewAttention(backend, shape, L, this.caches[l]!, inv, q, k, v, T, start);
      ringAddInto(x, await this.linear(weightName.output(l), attended, T, L.attention));
      const gateUp = await this.linear(weightName.gateUp(l), x, T, sv.residual);
      checkViewWidth(x, residualViewWidth(this.m.plan, sv.residual), 'view 0');
      const inv2 = rowInverseRms(x, T, c.dim, c.normEps, sv.residual);
      const activated = deferredSwiglu(ringGateUpBlocks(gateUp, T, c.hiddenDim), T, c.hiddenDim, inv2, L.rawGateUp, L.ffn);
      ringAddInto(x, await this.linear(weightName.down(l), activated, T, L.ffn));
    }
    this.length = start + T;
    const last = x.slice((T - 1) * c.dim, T * c.dim);
    checkViewWidth(last, residualViewWidth(this.m.plan, sv.residual), 'rmsnorm input');
    const normed = rmsnormFixed(last, 1, c.dim, c.normEps, sv.residual, this.m.plan.finalNorm);
    return this.linear(weightName.head, normed, 1, this.m.plan.finalNorm);
  }
}
