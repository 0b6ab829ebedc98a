/**
 * The fixed-point plaintext oracle of the `ring64` profile: the forward pass computed on ring
 * integers exactly as the private protocol computes it on shares, so that private == oracle
 * bit for bit (logits and text). Same int16 weights, same exponents (the plan), same integer
 * RoPE in the scores, same nonlinear steps (fixed-point-elem.ts), same causal-mask constant.
 * Only the order of operations inside the exact ring products may differ, which changes nothing
 * in Z_2^64. A plan with ffnNormDeferred (model/fixed-point/plan-deferred-ffn-norm.ts) runs the
 * 10-flight schedule: gate|up on the raw residual, 1/rms(x) applied in the SwiGLU step.
 *
 * Against the float plaintext it differs by quantisation only; see the plan for the exponents
 * and tests/protocol for the measured distance.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import { ringLinearInt } from '../../compute/ring-gemm.js';
import { ringAddInto, type Ring } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import { ffnNormDeferredAt, type FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import { decodeLogits, rmsnormFixed, softmaxFixed, swigluFixed } from './fixed-point-elem.js';
import { addCausalMask, ringAttentionScores, ringAttentionValues, RingRope } from './ring-attention.js';
import { addBiasRows, ringBias, ringColumns, ringGateUpBlocks, ringOnehot } from './ring-tensors.js';
import { RingRows } from './ring-rows.js';
import { qkHeadRows, qkHeads, qkNormSelect } from './ring-qk-norm.js';
import { gegluFixed } from './fixed-point-gelu.js';
import { ringDiagonal } from './ring-diagonal.js';
import { addWindowMask, attentionSoftmax, capLogits, layerWindow, ringLayerRopes } from './ring-layer-variant.js';
import { fixedPointMoeFfn } from './ring-moe.js';
import { deferredGateUpViewWidth, gateUpViewWidth, moeViewWidth, postNormViewWidth, qkNormViewWidth, residualViewWidth } from '../../model/fixed-point/view-width.js';
import { checkViewWidth } from './view-width-check.js';
import { deferredSwiglu, rowInverseRms } from './single-view-attention.js';

export class FixedPointModel {
  readonly rope: RingRope;
  /** Each layer's RoPE (Gemma 3's windowed layers have their own). */
  readonly layerRopes: readonly RingRope[];
  constructor(
    readonly config: ModelConfig,
    readonly plan: FixedPointPlan,
    readonly weights: ReadonlyMap<string, FixedPointWeight>,
    readonly backend: ComputeBackend = defaultBackend(),
  ) {
    this.rope = RingRope.forConfig(config, plan.rope);
    this.layerRopes = ringLayerRopes(config, plan.rope, this.rope);
  }

  weight(name: string): FixedPointWeight {
    const w = this.weights.get(name);
    if (!w) throw new Error(`fixed-point model: no weight ${name}`);
    return w;
  }

  newSequence(): FixedPointSequence {
    return new FixedPointSequence(this);
  }
}

/** One sequence (its K/V memory and position); calls must not overlap. */
export class FixedPointSequence {
  private readonly keys: RingRows[];
  private readonly values: RingRows[];
  private length = 0;
  constructor(private readonly m: FixedPointModel) {
    const c = m.config;
    const kvDim = c.nKvHeads * c.headDim;
    this.keys = Array.from({ length: c.nLayers }, () => new RingRows(kvDim, 64));
    this.values = Array.from({ length: c.nLayers }, () => new RingRows(kvDim, 64));
  }

  get position(): number {
    return this.length;
  }

  /** Ring logits (exponent plan.logits) of the last of `tokens`, run as one batch. */
  async prefill(tokens: readonly number[]): Promise<Ring> {
    return this.forward(tokens);
  }

  async decode(token: number): Promise<Ring> {
    return this.forward([token]);
  }

  /** The logits as floats (what the user's sampler reads). */
  decodeLogits(logits: Ring): Float64Array {
    return capLogits(this.m.config, decodeLogits(logits, this.m.plan.logits));
  }

  private async linear(name: string, x: Ring, rows: number, inExp: number): Promise<Ring> {
    const w = this.m.weight(name);
    const y = await ringLinearInt(this.m.backend, x, rows, w.data, w.outDim, w.inDim);
    if (w.bias) addBiasRows(y, rows, ringBias(w.bias, w.blocks, inExp));
    return y;
  }

  /** A post-norm: the user's RMSNorm (decoded at `raw`, re-encoded at `out`), then γ as a diagonal map. */
  private postNorm(name: string, x: Ring, rows: number, raw: number, out: number): Ring {
    checkViewWidth(x, postNormViewWidth(this.m.plan, raw), 'rmsnorm input');
    const normed = rmsnormFixed(x, rows, this.m.config.dim, this.m.config.normEps, raw, out);
    return ringDiagonal(this.m.weight(name).data, normed, rows);
  }

  private async forward(tokens: readonly number[]): Promise<Ring> {
    const { config: c, plan } = this.m;
    const T = tokens.length;
    const x = await this.residualStream(tokens);
    const last = x.slice((T - 1) * c.dim, T * c.dim);
    checkViewWidth(last, residualViewWidth(plan), 'rmsnorm input');
    const normed = rmsnormFixed(last, 1, c.dim, c.normEps, plan.residual, plan.finalNorm);
    return this.linear(weightName.head, normed, 1, plan.finalNorm);
  }

  /** Every layer over `tokens` (extending the memory): the residual stream of every row, [T, dim] at plan.residual. */
  async residualStream(tokens: readonly number[]): Promise<Ring> {
    const { config: c, plan, backend, layerRopes } = this.m;
    const softmax = attentionSoftmax(c);
    const T = tokens.length;
    const start = this.length;
    if (T === 0) throw new RangeError('forward: tokens is empty');
    if (start + T > c.maxSeqLen) throw new RangeError(`forward: positions ${start}..${start + T - 1} exceed the context length ${c.maxSeqLen}`);
    const qDim = c.nHeads * c.headDim;
    const kvDim = c.nKvHeads * c.headDim;
    const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
    const x = await this.linear(weightName.embedding, ringOnehot(tokens, c.vocabSize, plan.onehot), T, plan.onehot);
    for (let l = 0; l < c.nLayers; l++) {
      const L = plan.layers[l]!;
      // Every narrowed view's values are checked against its width (view-width-check.ts) where the private run narrows it.
      checkViewWidth(x, residualViewWidth(plan), 'rmsnorm input');
      const normed = rmsnormFixed(x, T, c.dim, c.normEps, plan.residual, L.attnNorm);
      const qkv = await this.linear(weightName.qkv(l), normed, T, L.attnNorm);
      const width = qDim + 2 * kvDim;
      let q = ringColumns(qkv, T, width, 0, qDim);
      let k = ringColumns(qkv, T, width, qDim, kvDim);
      if (L.qkNorm) {
        // Per-head q/k norm before RoPE (ring-qk-norm.ts): normalise every head row, then γ.
        const headRows = qkHeadRows(shape, T);
        const heads = qkHeads(qkv, shape, T);
        checkViewWidth(heads, qkNormViewWidth(plan, L), 'rmsnorm input');
        const normedHeads = rmsnormFixed(heads, headRows, c.headDim, c.normEps, L.attnNorm + L.qk, L.qkNorm.out);
        ({ q, k } = qkNormSelect(await this.linear(weightName.qkNorm(l), normedHeads, headRows, L.qkNorm.out), shape, T));
      }
      this.keys[l]!.append(k);
      this.values[l]!.append(ringColumns(qkv, T, width, qDim + kvDim, kvDim));
      const keys = start + T;
      const scores = await ringAttentionScores(backend, shape, layerRopes[l]!, this.keys[l]!.view(), keys, q, T, start);
      addCausalMask(scores, c.nHeads, T, keys, start);
      const window = layerWindow(c, l);
      if (window !== undefined) addWindowMask(scores, c.nHeads, T, keys, start, window);
      const probs = softmaxFixed(scores, c.nHeads * T, keys, softmax.scale, L.scores, L.probs, softmax.softcap);
      const attended = await ringAttentionValues(backend, shape, this.values[l]!.view(), keys, probs, T);
      let o = await this.linear(weightName.output(l), attended, T, L.probs + L.attnNorm + L.v);
      if (L.postNorm) o = this.postNorm(weightName.postAttnNorm(l), o, T, L.postNorm.raw, L.postNorm.out);
      ringAddInto(x, o);
      checkViewWidth(x, residualViewWidth(plan), 'rmsnorm input');
      if (ffnNormDeferredAt(plan, L)) {
        // Deferred FFN norm (plan-deferred-ffn-norm.ts, ring-deferred-ffn-step.ts): W_gate|up on the raw residual, 1/rms(x) inside the SwiGLU step.
        const raw = ringGateUpBlocks(await this.linear(weightName.gateUp(l), x, T, plan.residual), T, c.hiddenDim);
        checkViewWidth(raw, deferredGateUpViewWidth(plan, L), 'swiglu input');
        const inv = rowInverseRms(x, T, c.dim, c.normEps, plan.residual);
        ringAddInto(x, await this.linear(weightName.down(l), deferredSwiglu(raw, T, c.hiddenDim, inv, plan.residual + L.gateUp, L.ffn), T, L.ffn));
        continue;
      }
      const normed2 = rmsnormFixed(x, T, c.dim, c.normEps, plan.residual, L.ffnNorm);
      if (L.moe) {
        const names = { router: weightName.router(l), gateUp: weightName.gateUp(l), expertDown: (e: number) => weightName.expertDown(l, e) };
        ringAddInto(x, await fixedPointMoeFfn((name, a, rows, inExp) => this.linear(name, a, rows, inExp), names, normed2, T, c, { ...L, moe: L.moe }, moeViewWidth(plan, L)));
        continue;
      }
      const gateUp = await this.linear(weightName.gateUp(l), normed2, T, L.ffnNorm);
      const gate = c.variant?.activation === 'gelu-tanh' ? gegluFixed : swigluFixed;
      const blocks = ringGateUpBlocks(gateUp, T, c.hiddenDim);
      checkViewWidth(blocks, gateUpViewWidth(plan, L), `${c.variant?.activation === 'gelu-tanh' ? 'geglu' : 'swiglu'} input`);
      const activated = gate(blocks, T * c.hiddenDim, L.ffnNorm + L.gateUp, L.ffn);
      let down = await this.linear(weightName.down(l), activated, T, L.ffn);
      if (L.postNorm) down = this.postNorm(weightName.postFfnNorm(l), down, T, L.postNorm.raw, L.postNorm.out);
      ringAddInto(x, down);
    }
    this.length = start + T;
    return x;
  }
}
