/**
 * The weights as the protocol sees them: the linear maps of a Llama model with the RMSNorm
 * weights γ folded in (W·diag(γ)), so nothing but architecture, shapes, tokenizer and lengths
 * is public (protocol.md, "RMSNorm weights"). q/k/v are one map (rows stacked), gate/up too.
 *
 * Each matrix has a public `scale`: max|X| rounded up to a power of two. The weight mask U is
 * uniform on ±(weightRatio × scale), so the dealer can draw it without seeing X; the scale is
 * the only thing about the values that leaves the engine.
 */
import type { ModelDescription } from '../../model/model-description.js';
import { assertPrivatelyServable } from './private-steps.js';

/** linear: f(X, y) = y · Xᵀ with X[out, in]; embedding: f(X, y) = y · X with X[vocab, dim]. */
export type WeightOp = 'linear' | 'embedding';

export interface WeightSpec {
  name: string;
  op: WeightOp;
  /** Output and input widths of f(X, ·). */
  outDim: number;
  inDim: number;
  /** Power of two ≥ max|X| (public). */
  scale: number;
  hasBias: boolean;
}

export interface PrivateWeight extends WeightSpec {
  /** X, row-major as stored (linear: [out, in]; embedding: [vocab, dim]). */
  data: Float64Array;
  bias?: Float64Array;
}

export const weightName = {
  embedding: 'embedding',
  qkv: (layer: number) => `layers.${layer}.qkv`,
  output: (layer: number) => `layers.${layer}.o`,
  gateUp: (layer: number) => `layers.${layer}.gate_up`,
  down: (layer: number) => `layers.${layer}.down`,
  head: 'lm_head',
} as const;

function powerOfTwoAtLeast(x: number): number {
  return x > 0 ? 2 ** Math.ceil(Math.log2(x)) : 1;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) {
    const x = Math.abs(v);
    if (x > m) m = x;
  }
  return m;
}

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

function make(name: string, op: WeightOp, outDim: number, inDim: number, data: Float64Array, bias?: Float64Array): PrivateWeight {
  const w: PrivateWeight = { name, op, outDim, inDim, data, scale: powerOfTwoAtLeast(maxAbs(data)), hasBias: bias !== undefined };
  if (bias) w.bias = bias;
  return w;
}

/**
 * Folds and stacks the model's weights into the protocol's matrices (P0, at load time).
 * @throws UnsupportedPrivateModelError for a model needing a private step the protocol lacks
 */
export function privateWeightsOf(model: ModelDescription): Map<string, PrivateWeight> {
  const { config: c, weights } = model;
  assertPrivatelyServable(model.id, c);
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const out = new Map<string, PrivateWeight>();
  const add = (w: PrivateWeight) => out.set(w.name, w);
  // The embedding as a linear map of the one-hot rows: Eᵀ [dim, vocab], so y · (Eᵀ)ᵀ = y · E. The
  // transposed layout runs through the same Gemm as every other layer (about 1.6x faster than a
  // [1, vocab]·[vocab, dim] MatMul in float64 on onnxruntime's CPU kernels).
  add(make(weightName.embedding, 'linear', c.dim, c.vocabSize, transpose(weights.embedding, c.vocabSize, c.dim)));
  weights.layers.forEach((L, i) => {
    let bias: Float64Array | undefined;
    if (L.bq || L.bk || L.bv) {
      bias = new Float64Array(qDim + 2 * kvDim);
      if (L.bq) bias.set(L.bq, 0);
      if (L.bk) bias.set(L.bk, qDim);
      if (L.bv) bias.set(L.bv, qDim + kvDim);
    }
    add(make(weightName.qkv(i), 'linear', qDim + 2 * kvDim, c.dim, stackFolded([L.wq, L.wk, L.wv], c.dim, L.attnNorm), bias));
    add(make(weightName.output(i), 'linear', c.dim, qDim, Float64Array.from(L.wo)));
    add(make(weightName.gateUp(i), 'linear', 2 * c.hiddenDim, c.dim, stackFolded([L.w1, L.w3], c.dim, L.ffnNorm)));
    add(make(weightName.down(i), 'linear', c.dim, c.hiddenDim, Float64Array.from(L.w2)));
  });
  add(make(weightName.head, 'linear', c.vocabSize, c.dim, stackFolded([weights.lmHead], c.dim, weights.finalNorm)));
  return out;
}

/** The public part of a weight (what the model card publishes). */
export function specOf(w: WeightSpec): WeightSpec {
  return { name: w.name, op: w.op, outDim: w.outDim, inDim: w.inDim, scale: w.scale, hasBias: w.hasBias };
}
