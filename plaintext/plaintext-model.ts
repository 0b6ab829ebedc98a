/**
 * The plaintext reference forward pass: the oracle every private result is compared with.
 *
 * Float32 storage, products through `ComputeBackend.linear` (y = x·Wᵀ), the small nonlinear
 * steps from ./ops (the same functions the private protocol applies to its permuted views).
 * One Llama layer: h = x + Wo·attn(RoPE(Wq·n(x)), RoPE(Wk·n(x)), Wv·n(x)), then
 * h + W2·(silu(W1·n(h)) ⊙ W3·n(h)), with n = RMSNorm(·)⊙γ; final RMSNorm, then the LM head.
 * The steps of ModelVariant (q/k norm, GELU gate, post-norms, soft-capping, per-layer windows and
 * RoPE, mixture of experts; model-description.ts) are applied where the variant asks for them.
 */
import type { ComputeBackend } from '../compute/compute-backend.js';
import { defaultBackend } from '../compute/onnx-backend.js';
import type { LayerWeights, ModelConfig, ModelDescription, ModelWeights } from '../model/model-description.js';
import { KvCache } from './kv-cache.js';
import { moeFfn } from './moe-ffn.js';
import { geglu } from './ops/gelu.js';
import { rmsNorm } from './ops/rmsnorm.js';
import { RopeTable } from './ops/rope.js';
import { softmaxWithSinkInPlace } from './ops/attention-sink.js';
import { softcapInPlace } from './ops/softcap.js';
import { softmaxInPlace } from './ops/softmax.js';
import { swiglu } from './ops/silu.js';
import type { TokenStepper } from './token-stepper.js';

export interface PlaintextModelOptions {
  backend?: ComputeBackend;
  /**
   * Concatenate wq|wk|wv and w1|w3 so each layer makes 3 backend calls instead of 6 (about a
   * third faster per token on small models) at the cost of a second copy of those weights.
   * Default: on while the copy stays under 1 GiB.
   */
  fuseProjections?: boolean;
  /**
   * Multiply single rows as two-row batches (default true). onnxruntime runs one row through
   * a GEMV kernel whose summation order differs from its GEMM kernel by a few float32 ulps
   * (1.5e-5 on stories260K's logits); padding makes a token's logits independent of whether it
   * came in a batch or alone, i.e. prefill, chunked prefill and decode agree exactly. Costs
   * some speed on tiny models where per-call overhead dominates; benchmarks may turn it off.
   */
  batchInvariant?: boolean;
  /**
   * Observer of the forward pass's intermediate values (calibration of the fixed-point plan,
   * plaintext/fixed-point/calibrate.ts): the residual stream at every norm input and at the end,
   * q/k/v (before RoPE), raw scores q·k (RoPE applied, before 1/sqrt(headDim); one value: the
   * pass's largest magnitude), the attention output, gate and up, the SwiGLU output, the logits;
   * with a per-head q/k norm also q and k before it ('qk-raw'), with post-norms the attention and
   * FFN outputs before them ('post-raw'). Logits are observed before final soft-capping.
   */
  observe?: (family: ObservedFamily, values: Float32Array | Float64Array) => void;
}

export type ObservedFamily = 'residual' | 'query' | 'key' | 'value' | 'scores' | 'attention' | 'gate-up' | 'ffn' | 'logits' | 'qk-raw' | 'post-raw' | 'router';

/** Per-layer concatenated projections (see PlaintextModelOptions.fuseProjections). */
interface FusedLayer {
  wqkv: Float32Array; // [qDim + 2·kvDim, dim]
  bqkv: Float32Array | undefined;
  w13: Float32Array; // [2·hiddenDim, dim]
}

const FUSE_LIMIT_BYTES = 2 ** 30;

export class PlaintextModel {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  readonly rope: RopeTable;
  /** Per layer, the RoPE table it uses (Gemma 3's windowed layers have their own). */
  readonly layerRopes: readonly RopeTable[];
  readonly backend: ComputeBackend;
  readonly batchInvariant: boolean;
  readonly observe: PlaintextModelOptions['observe'];
  /** Present when projections are fused. */
  readonly fused: readonly FusedLayer[] | undefined;

  constructor(
    readonly model: ModelDescription,
    options: PlaintextModelOptions = {},
  ) {
    this.backend = options.backend ?? defaultBackend();
    this.batchInvariant = options.batchInvariant ?? true;
    this.observe = options.observe;
    this.config = model.config;
    this.weights = model.weights;
    const c = this.config;
    if (c.nHeads % c.nKvHeads !== 0) throw new RangeError(`model ${model.id}: nHeads ${c.nHeads} is not a multiple of nKvHeads ${c.nKvHeads}`);
    if (this.weights.layers.length !== c.nLayers) throw new RangeError(`model ${model.id}: ${this.weights.layers.length} layers of weights, config says ${c.nLayers}`);
    this.rope = RopeTable.forConfig(c);
    const local = c.variant?.localRope;
    const localRope = local ? new RopeTable(c.headDim, c.maxSeqLen, local.theta, local.scaling) : undefined;
    this.layerRopes = Array.from({ length: c.nLayers }, (_, l) => (localRope && c.variant?.layerWindows?.[l] != null ? localRope : this.rope));
    const fusedBytes = 4 * c.nLayers * c.dim * ((c.nHeads + 2 * c.nKvHeads) * c.headDim + 2 * c.hiddenDim);
    // Experts are evaluated one by one (moe-ffn.ts): nothing to fuse there.
    const fuse = (options.fuseProjections ?? fusedBytes <= FUSE_LIMIT_BYTES) && c.variant?.moe === undefined;
    this.fused = fuse ? this.weights.layers.map((lw) => fuseLayer(lw, c)) : undefined;
  }

  /** A fresh sequence with its own KV cache. */
  newSequence(): PlaintextSequence {
    return new PlaintextSequence(this);
  }

  /** Logits [T, vocab] for every position of `tokens`, from an empty cache. */
  forwardAll(tokens: readonly number[]): Promise<Float32Array> {
    return this.newSequence().forwardAll(tokens);
  }
}

/**
 * One sequence's state (KV cache and position). Calls must not overlap: each one extends the
 * cache the next one reads.
 */
export class PlaintextSequence implements TokenStepper {
  private readonly cache: KvCache;
  private busy = false;

  constructor(private readonly m: PlaintextModel) {
    const c = m.config;
    this.cache = new KvCache(c.nLayers, c.nKvHeads * c.headDim, c.maxSeqLen);
  }

  /** Tokens processed so far (the position the next token gets). */
  get position(): number {
    return this.cache.length;
  }

  get contextLength(): number {
    return this.m.config.maxSeqLen;
  }

  /** Runs all `tokens` in one batched pass (causal within the batch); logits of the last one. */
  prefill(tokens: readonly number[]): Promise<Float32Array> {
    return this.run(tokens, false);
  }

  /** One more token through the cache; its logits. */
  decode(token: number): Promise<Float32Array> {
    return this.run([token], false);
  }

  /** Like prefill, but returns the logits of every position: [T, vocab]. */
  forwardAll(tokens: readonly number[]): Promise<Float32Array> {
    return this.run(tokens, true);
  }

  /** The final hidden states (after the final norm, γ applied) of every position: [T, dim]. What embeddings pool. */
  finalHiddenStates(tokens: readonly number[]): Promise<Float32Array> {
    return this.run(tokens, true, true);
  }

  private async run(tokens: readonly number[], allLogits: boolean, hidden = false): Promise<Float32Array> {
    if (this.busy) throw new Error('PlaintextSequence: a forward pass is already running on this sequence');
    this.busy = true;
    try {
      return await this.forward(tokens, allLogits, hidden);
    } finally {
      this.busy = false;
    }
  }

  private async forward(tokens: readonly number[], allLogits: boolean, hidden = false): Promise<Float32Array> {
    const { config: c, weights: w, backend, layerRopes, fused, batchInvariant: pad, observe } = this.m;
    const variant = c.variant ?? {};
    const T = tokens.length;
    const start = this.cache.length;
    if (T === 0) throw new RangeError('forward: tokens is empty');
    if (start + T > c.maxSeqLen) throw new RangeError(`forward: positions ${start}..${start + T - 1} exceed the context length ${c.maxSeqLen}`);
    const { dim, headDim, nHeads, nKvHeads, hiddenDim, vocabSize, normEps } = c;
    const qDim = nHeads * headDim;
    const kvDim = nKvHeads * headDim;

    const x = new Float32Array(T * dim);
    tokens.forEach((token, t) => {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) throw new RangeError(`forward: token ${t} is ${token}, outside the vocabulary [0, ${vocabSize})`);
      x.set(w.embedding.subarray(token * dim, (token + 1) * dim), t * dim);
    });
    if (variant.embeddingScale !== undefined) for (let i = 0; i < x.length; i++) x[i] = x[i]! * variant.embeddingScale;
    this.cache.reserve(start + T);

    for (let l = 0; l < c.nLayers; l++) {
      const lw = w.layers[l]!;
      observe?.('residual', x);
      const h = rmsNorm(x, T, dim, normEps, lw.attnNorm);
      let q: Float32Array, k: Float32Array, v: Float32Array;
      const fl = fused?.[l];
      if (fl) {
        const qkv = await linear(backend, pad, h, T, fl.wqkv, qDim + 2 * kvDim, dim);
        addBias(qkv, T, fl.bqkv);
        [q, k, v] = splitColumns(qkv, T, [qDim, kvDim, kvDim]);
      } else {
        [q, k, v] = await Promise.all([
          linear(backend, pad, h, T, lw.wq, qDim, dim),
          linear(backend, pad, h, T, lw.wk, kvDim, dim),
          linear(backend, pad, h, T, lw.wv, kvDim, dim),
        ]);
        addBias(q, T, lw.bq);
        addBias(k, T, lw.bk);
        addBias(v, T, lw.bv);
      }
      if (variant.qkNorm) {
        if (observe) {
          // q and k before their per-head norm (the ring64 plan's q/k-norm input).
          observe('qk-raw', q);
          observe('qk-raw', k);
        }
        // Per head: q as [T·nHeads, headDim] rows, k as [T·nKvHeads, headDim].
        q = rmsNorm(q, T * nHeads, headDim, normEps, lw.qNorm!);
        k = rmsNorm(k, T * nKvHeads, headDim, normEps, lw.kNorm!);
      }
      if (observe) {
        observe('query', q);
        observe('key', k);
        observe('value', v);
      }
      const rope = layerRopes[l]!;
      rope.rotateRows(q, T, nHeads, start);
      rope.rotateRows(k, T, nKvHeads, start);
      this.cache.write(l, start, k, v, T);

      const attn = attention(q, T, start, this.cache.keysOf(l), this.cache.valuesOf(l), c, variant.layerWindows?.[l] ?? undefined, lw.sinks, observe);
      observe?.('attention', attn);
      let o = await linear(backend, pad, attn, T, lw.wo, dim, qDim);
      addBias(o, T, lw.bo);
      if (variant.postNorms) {
        observe?.('post-raw', o);
        o = rmsNorm(o, T, dim, normEps, lw.postAttnNorm!);
      }
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + o[i]!;

      observe?.('residual', x);
      const h2 = rmsNorm(x, T, dim, normEps, lw.ffnNorm);
      let down: Float32Array;
      if (variant.moe) {
        down = await moeFfn((a, rows, m, outDim, inDim) => linear(backend, pad, a, rows, m, outDim, inDim), h2, T, lw, c, observe);
      } else {
        let gate: Float32Array, up: Float32Array;
        if (fl) {
          [gate, up] = splitColumns(await linear(backend, pad, h2, T, fl.w13, 2 * hiddenDim, dim), T, [hiddenDim, hiddenDim]);
        } else {
          [gate, up] = await Promise.all([linear(backend, pad, h2, T, lw.w1, hiddenDim, dim), linear(backend, pad, h2, T, lw.w3, hiddenDim, dim)]);
        }
        if (observe) {
          observe('gate-up', gate);
          observe('gate-up', up);
        }
        // observe keeps the gate's values, so the activation then writes a new array.
        const into = observe ? undefined : gate;
        const activated = variant.activation === 'gelu-tanh' ? geglu(gate, up, into) : swiglu(gate, up, into);
        observe?.('ffn', activated);
        down = await linear(backend, pad, activated, T, lw.w2, dim, hiddenDim);
      }
      if (variant.postNorms) {
        observe?.('post-raw', down);
        down = rmsNorm(down, T, dim, normEps, lw.postFfnNorm!);
      }
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + down[i]!;
    }
    this.cache.length = start + T;

    const rows = allLogits ? T : 1;
    const last = allLogits ? x : x.subarray((T - 1) * dim);
    observe?.('residual', last);
    const normed = rmsNorm(last, rows, dim, normEps, w.finalNorm);
    if (hidden) return normed;
    const logits = await linear(backend, pad, normed, rows, w.lmHead, vocabSize, dim);
    observe?.('logits', logits);
    if (variant.finalSoftcap !== undefined) softcapInPlace(logits, variant.finalSoftcap);
    return logits;
  }
}

/** y = x·Wᵀ through the backend; see PlaintextModelOptions.batchInvariant for the padding. */
async function linear(backend: ComputeBackend, padSingleRow: boolean, x: Float32Array, rows: number, w: Float32Array, outDim: number, inDim: number): Promise<Float32Array> {
  if (rows !== 1 || !padSingleRow) return backend.linear(x, rows, w, outDim, inDim);
  const padded = new Float32Array(2 * inDim);
  padded.set(x);
  padded.set(x, inDim);
  return (await backend.linear(padded, 2, w, outDim, inDim)).subarray(0, outDim);
}

function fuseLayer(lw: LayerWeights, c: ModelConfig): FusedLayer {
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const wqkv = new Float32Array((qDim + 2 * kvDim) * c.dim);
  wqkv.set(lw.wq, 0);
  wqkv.set(lw.wk, qDim * c.dim);
  wqkv.set(lw.wv, (qDim + kvDim) * c.dim);
  let bqkv: Float32Array | undefined;
  if (lw.bq || lw.bk || lw.bv) {
    bqkv = new Float32Array(qDim + 2 * kvDim); // a missing bias among present ones is zero
    if (lw.bq) bqkv.set(lw.bq, 0);
    if (lw.bk) bqkv.set(lw.bk, qDim);
    if (lw.bv) bqkv.set(lw.bv, qDim + kvDim);
  }
  const w13 = new Float32Array(2 * c.hiddenDim * c.dim);
  w13.set(lw.w1, 0);
  w13.set(lw.w3, c.hiddenDim * c.dim);
  return { wqkv, bqkv, w13 };
}

/** Splits y[rows, Σwidths] into column blocks (views when there is one row, copies otherwise). */
function splitColumns<const W extends readonly number[]>(y: Float32Array, rows: number, widths: W): { [K in keyof W]: Float32Array } {
  const total = widths.reduce((a, b) => a + b, 0);
  let offset = 0;
  return widths.map((width) => {
    const from = offset;
    offset += width;
    if (rows === 1) return y.subarray(from, from + width);
    const part = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) part.set(y.subarray(r * total + from, r * total + from + width), r * width);
    return part;
  }) as { [K in keyof W]: Float32Array }; // map() loses the tuple length; widths fixes it
}

function addBias(y: Float32Array, rows: number, bias: Float32Array | undefined): void {
  if (!bias) return;
  const width = bias.length;
  for (let r = 0; r < rows; r++) for (let i = 0; i < width; i++) y[r * width + i] = y[r * width + i]! + bias[i]!;
}

/**
 * Causal multi-head attention of T new query rows (positions start..start+T−1) over the cached
 * keys/values 0..start+T−1. Grouped-query: query head h reads kv head ⌊h / (nHeads/nKvHeads)⌋.
 * Scores are q·k times the variant's attentionScale (default 1/√headDim), soft-capped when it
 * says so; with a `window` w a query at p sees keys p−w+1..p only; with `sinks` each head's
 * softmax also spreads mass onto its sink logit.
 */
function attention(q: Float32Array, T: number, start: number, keys: Float32Array, values: Float32Array, c: ModelConfig, window?: number, sinks?: Float32Array, observe?: PlaintextModelOptions['observe']): Float32Array {
  const { nHeads, nKvHeads, headDim } = c;
  const qDim = nHeads * headDim;
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const scale = c.variant?.attentionScale ?? 1 / Math.sqrt(headDim);
  const cap = c.variant?.attentionSoftcap;
  const out = new Float32Array(T * qDim);
  const scores = new Float64Array(start + T);
  const acc = new Float64Array(headDim);
  let maxDot = 0;
  for (let t = 0; t < T; t++) {
    const span = start + t + 1; // causal: keys up to and including this position
    const first = window === undefined ? 0 : Math.max(0, span - window);
    for (let h = 0; h < nHeads; h++) {
      const qo = t * qDim + h * headDim;
      const kvo = Math.floor(h / group) * headDim;
      for (let s = first; s < span; s++) {
        const ko = s * kvDim + kvo;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qo + d]! * keys[ko + d]!;
        scores[s] = dot * scale;
        if (Math.abs(dot) > maxDot) maxDot = Math.abs(dot);
      }
      if (cap !== undefined) softcapInPlace(scores, cap, first, span);
      if (sinks) softmaxWithSinkInPlace(scores, first, span - first, sinks[h]!);
      else softmaxInPlace(scores, first, span - first);
      acc.fill(0);
      for (let s = first; s < span; s++) {
        const a = scores[s]!;
        const vo = s * kvDim + kvo;
        for (let d = 0; d < headDim; d++) acc[d] = acc[d]! + a * values[vo + d]!;
      }
      for (let d = 0; d < headDim; d++) out[qo + d] = acc[d]!;
    }
  }
  observe?.('scores', Float64Array.of(maxDot));
  return out;
}
