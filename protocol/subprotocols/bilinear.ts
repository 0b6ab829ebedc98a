/**
 * The bilinear maps f of the sub-protocols (paper: f(X, Y)). Every party evaluates the same f
 * on its own operands through the compute backend; bilinearity is what lets shares and masks
 * pass through: f(A + B, C) = f(A, C) + f(B, C).
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import type { WeightSpec } from '../model/private-weights.js';

/** MulW's f(X, y) for `rows` input rows. */
export function applyWeight(backend: ComputeBackend, w: WeightSpec, X: Float64Array, y: Float64Array, rows: number): Promise<Float64Array> {
  return w.op === 'linear' ? backend.linear(y, rows, X, w.outDim, w.inDim) : backend.matmul(y, rows, w.inDim, X, w.outDim);
}

/** Attention geometry shared by the two MulKV maps. */
export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
}

/** Copies head `h`'s columns out of a [rows, nHeadsTotal*headDim] matrix into [rows, headDim]. */
function gatherHead(x: Float64Array, rows: number, width: number, h: number, headDim: number, into?: Float64Array, rowOffset = 0): Float64Array {
  const out = into ?? new Float64Array(rows * headDim);
  for (let r = 0; r < rows; r++) {
    const src = r * width + h * headDim;
    out.set(x.subarray(src, src + headDim), (rowOffset + r) * headDim);
  }
  return out;
}

/**
 * Scores: f(K, Q) = per head h, Q_h · K_{g(h)}ᵀ with g(h) = ⌊h / (nHeads/nKvHeads)⌋ (GQA).
 * K: [keys, nKvHeads*headDim], Q: [rows, nHeads*headDim] → [nHeads, rows, keys], i.e. a
 * row-major matrix of nHeads*rows rows and `keys` columns (softmax rows).
 */
export async function attentionScores(backend: ComputeBackend, s: AttentionShape, K: Float64Array, keys: number, Q: Float64Array, rows: number): Promise<Float64Array> {
  const group = s.nHeads / s.nKvHeads;
  const out = new Float64Array(s.nHeads * rows * keys);
  for (let g = 0; g < s.nKvHeads; g++) {
    const Kg = gatherHead(K, keys, s.nKvHeads * s.headDim, g, s.headDim);
    const Qg = new Float64Array(group * rows * s.headDim);
    for (let j = 0; j < group; j++) gatherHead(Q, rows, s.nHeads * s.headDim, g * group + j, s.headDim, Qg, j * rows);
    const Sg = await backend.linear(Qg, group * rows, Kg, keys, s.headDim);
    out.set(Sg, g * group * rows * keys);
  }
  return out;
}

/**
 * Attention output: f(V, P) = per head h, P_h · V_{g(h)}. V: [keys, nKvHeads*headDim],
 * P: [nHeads, rows, keys] → O: [rows, nHeads*headDim].
 */
export async function attentionValues(backend: ComputeBackend, s: AttentionShape, V: Float64Array, keys: number, P: Float64Array, rows: number): Promise<Float64Array> {
  const group = s.nHeads / s.nKvHeads;
  const width = s.nHeads * s.headDim;
  const out = new Float64Array(rows * width);
  for (let g = 0; g < s.nKvHeads; g++) {
    const Vg = gatherHead(V, keys, s.nKvHeads * s.headDim, g, s.headDim);
    const Pg = P.subarray(g * group * rows * keys, (g + 1) * group * rows * keys);
    const Og = await backend.matmul(Pg, group * rows, keys, Vg, s.headDim);
    for (let j = 0; j < group; j++) {
      const h = g * group + j;
      for (let r = 0; r < rows; r++) {
        const src = (j * rows + r) * s.headDim;
        out.set(Og.subarray(src, src + s.headDim), r * width + h * s.headDim);
      }
    }
  }
  return out;
}
