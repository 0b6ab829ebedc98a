/**
 * The linear maps of a Llama model as the private protocol and the fixed-point oracle see them:
 * RMSNorm weights γ folded into the following matrix (W·diag(γ)), q/k/v stacked into one map and
 * gate/up into another, the embedding transposed so that a one-hot row times it is one GEMM
 * (protocol.md, "RMSNorm weights"). One place for this folding, used by both number formats.
 */
import type { ModelDescription } from '../model-description.js';

/** linear: f(X, y) = y · Xᵀ with X[out, in]. (`embedding` is kept for callers that store [vocab, dim].) */
export type WeightOp = 'linear' | 'embedding';

export interface FoldedWeight {
  name: string;
  op: WeightOp;
  outDim: number;
  inDim: number;
  /** X, row-major [outDim, inDim] for 'linear'. */
  data: Float64Array;
  bias?: Float64Array;
}

export const weightName = {
  embedding: 'embedding',
  qkv: (layer: number) => `layers.${layer}.qkv`,
  output: (layer: number) => `layers.${layer}.o`,
  /** Per-head q/k norm γ (ModelVariant.qkNorm) as one diagonal map [2·headDim, headDim]: diag(γ_q) over diag(γ_k). */
  qkNorm: (layer: number) => `layers.${layer}.qk_norm`,
  /** Post-norm γ (ModelVariant.postNorms) as diagonal weights [dim, 1] (protocol/subprotocols/ring/ring-mul-diag.ts). */
  postAttnNorm: (layer: number) => `layers.${layer}.post_attn_norm`,
  postFfnNorm: (layer: number) => `layers.${layer}.post_ffn_norm`,
  gateUp: (layer: number) => `layers.${layer}.gate_up`,
  down: (layer: number) => `layers.${layer}.down`,
  /** ModelVariant.moe: the router [nExperts, dim] (γ of the FFN norm folded in) and each expert's down projection [dim, hiddenDim]. */
  router: (layer: number) => `layers.${layer}.router`,
  expertDown: (layer: number, expert: number) => `layers.${layer}.experts.${expert}.down`,
  head: 'lm_head',
} as const;

/** Stacks row-major matrices [r_i, cols] with γ folded into columns: X[r, c] · γ[c]. */
function stackFolded(parts: Float32Array[], cols: number, gamma?: Float32Array): Float64Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float64Array(total);
  let off = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[off + i] = gamma ? p[i]! * gamma[i % cols]! : p[i]!;
    off += p.length;
  }
  return out;
}

/** [rows, cols] → [cols, rows], widened to float64. */
function transpose(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
  return out;
}

function make(name: string, outDim: number, inDim: number, data: Float64Array, bias?: Float64Array): FoldedWeight {
  const w: FoldedWeight = { name, op: 'linear', outDim, inDim, data };
  if (bias) w.bias = bias;
  return w;
}

/**
 * The per-head q/k norm weights as a linear map of a normalised head row h [headDim]: the first
 * headDim outputs are γ_q ⊙ h, the last headDim γ_k ⊙ h (ring-qk-norm.ts keeps the half each row needs).
 */
function qkNormDiagonal(L: ModelDescription['weights']['layers'][number], headDim: number): Float64Array {
  if (!L.qNorm || !L.kNorm) throw new Error('folded weights: the q/k norm weights are missing');
  const out = new Float64Array(2 * headDim * headDim);
  for (let i = 0; i < headDim; i++) {
    out[i * headDim + i] = L.qNorm[i]!;
    out[(headDim + i) * headDim + i] = L.kNorm[i]!;
  }
  return out;
}

/** Folds and stacks the model's weights, in schedule order (embedding, layers, head). */
export function foldedWeightsOf(model: ModelDescription): Map<string, FoldedWeight> {
  const { config: c, weights } = model;
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const out = new Map<string, FoldedWeight>();
  const add = (w: FoldedWeight) => out.set(w.name, w);
  // The embedding as a linear map of the one-hot rows: Eᵀ [dim, vocab], so y · (Eᵀ)ᵀ = y · E. The
  // transposed layout runs through the same Gemm as every other layer (about 1.6x faster than a
  // [1, vocab]·[vocab, dim] MatMul in float64 on onnxruntime's CPU kernels).
  // Gemma's input embedding scale (√dim in the checkpoint dtype) folds into this copy only; a tied
  // LM head below reads the unscaled table.
  const embedding = transpose(weights.embedding, c.vocabSize, c.dim);
  const embeddingScale = c.variant?.embeddingScale;
  if (embeddingScale !== undefined) for (let i = 0; i < embedding.length; i++) embedding[i] = embedding[i]! * embeddingScale;
  add(make(weightName.embedding, c.dim, c.vocabSize, embedding));
  weights.layers.forEach((L, i) => {
    let bias: Float64Array | undefined;
    if (L.bq || L.bk || L.bv) {
      bias = new Float64Array(qDim + 2 * kvDim);
      if (L.bq) bias.set(L.bq, 0);
      if (L.bk) bias.set(L.bk, qDim);
      if (L.bv) bias.set(L.bv, qDim + kvDim);
    }
    add(make(weightName.qkv(i), qDim + 2 * kvDim, c.dim, stackFolded([L.wq, L.wk, L.wv], c.dim, L.attnNorm), bias));
    if (c.variant?.qkNorm) add(make(weightName.qkNorm(i), 2 * c.headDim, c.headDim, qkNormDiagonal(L, c.headDim)));
    add(make(weightName.output(i), c.dim, qDim, Float64Array.from(L.wo)));
    if (c.variant?.postNorms) {
      if (!L.postAttnNorm || !L.postFfnNorm) throw new Error('folded weights: the post-norm weights are missing');
      add(make(weightName.postAttnNorm(i), c.dim, 1, Float64Array.from(L.postAttnNorm)));
      add(make(weightName.postFfnNorm(i), c.dim, 1, Float64Array.from(L.postFfnNorm)));
    }
    // MoE: w1/w3 stack every expert's rows, so gate|up is [all experts' gates | all experts' ups].
    const moe = c.variant?.moe;
    add(make(weightName.gateUp(i), 2 * c.hiddenDim * (moe?.nExperts ?? 1), c.dim, stackFolded([L.w1, L.w3], c.dim, L.ffnNorm)));
    if (moe) {
      if (!L.router) throw new Error(`layer ${i}: a mixture-of-experts model without a router`);
      add(make(weightName.router(i), moe.nExperts, c.dim, stackFolded([L.router], c.dim, L.ffnNorm)));
      const size = c.dim * c.hiddenDim;
      for (let e = 0; e < moe.nExperts; e++) add(make(weightName.expertDown(i, e), c.dim, c.hiddenDim, Float64Array.from(L.w2.subarray(e * size, (e + 1) * size))));
    } else {
      add(make(weightName.down(i), c.dim, c.hiddenDim, Float64Array.from(L.w2)));
    }
  });
  add(make(weightName.head, c.vocabSize, c.dim, stackFolded([weights.lmHead], c.dim, weights.finalNorm)));
  return out;
}
