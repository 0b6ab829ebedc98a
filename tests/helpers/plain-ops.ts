/**
 * Plain float64 reference operations for the sub-protocol tests (straight loops, no backend,
 * so the reference shares nothing with the code under test but the definitions).
 */
import { Prg } from '../../crypto/prg.js';
import type { PrivateWeight, WeightOp } from '../../protocol/model/private-weights.js';
import type { AttentionShape } from '../../protocol/subprotocols/bilinear.js';

/** f(X, y) + bias for `rows` input rows (linear: y·Xᵀ with X[out, in]; embedding: y·X with X[in, out]). */
export function plainApplyWeight(w: PrivateWeight, y: Float64Array, rows: number): Float64Array {
  const { inDim, outDim } = w;
  const out = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += y[r * inDim + i]! * (w.op === 'linear' ? w.data[o * inDim + i]! : w.data[i * outDim + o]!);
      out[r * outDim + o] = s + (w.bias ? w.bias[o]! : 0);
    }
  }
  return out;
}

/** A random weight with entries uniform on ±amplitude (scale: the next power of two). */
export function randomWeight(prg: Prg, p: { name: string; op: WeightOp; outDim: number; inDim: number; amplitude: number; bias?: boolean }): PrivateWeight {
  const data = prg.uniformArray(p.outDim * p.inDim, p.amplitude);
  let m = 0;
  for (const v of data) m = Math.max(m, Math.abs(v));
  const w: PrivateWeight = { name: p.name, op: p.op, outDim: p.outDim, inDim: p.inDim, data, scale: 2 ** Math.ceil(Math.log2(m)), hasBias: p.bias === true };
  if (p.bias) w.bias = prg.uniformArray(p.outDim, 1);
  return w;
}

/**
 * Scores per head h: Q_h·K_{g(h)}ᵀ (not scaled) for query rows at positions start..start+rows−1
 * over keys 0..keys−1, laid out [nHeads, rows, keys]; masked (future) positions are −Infinity.
 */
export function plainScores(s: AttentionShape, K: Float64Array, keys: number, Q: Float64Array, rows: number, start: number): Float64Array {
  const group = s.nHeads / s.nKvHeads;
  const out = new Float64Array(s.nHeads * rows * keys);
  for (let h = 0; h < s.nHeads; h++) {
    const g = Math.floor(h / group);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < keys; k++) {
        let dot = 0;
        for (let d = 0; d < s.headDim; d++) dot += Q[r * s.nHeads * s.headDim + h * s.headDim + d]! * K[k * s.nKvHeads * s.headDim + g * s.headDim + d]!;
        out[(h * rows + r) * keys + k] = k > start + r ? -Infinity : dot;
      }
    }
  }
  return out;
}

/** O[r, h·headDim + d] = Σ_k P[h, r, k]·V[k, g(h)·headDim + d]. */
export function plainValues(s: AttentionShape, V: Float64Array, keys: number, P: Float64Array, rows: number): Float64Array {
  const group = s.nHeads / s.nKvHeads;
  const out = new Float64Array(rows * s.nHeads * s.headDim);
  for (let h = 0; h < s.nHeads; h++) {
    const g = Math.floor(h / group);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < s.headDim; d++) {
        let acc = 0;
        for (let k = 0; k < keys; k++) acc += P[(h * rows + r) * keys + k]! * V[k * s.nKvHeads * s.headDim + g * s.headDim + d]!;
        out[r * s.nHeads * s.headDim + h * s.headDim + d] = acc;
      }
    }
  }
  return out;
}

/** Row-wise softmax of x·scale where −Infinity entries get probability 0. */
export function plainSoftmax(x: Float64Array, rows: number, cols: number, scale: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]! * scale);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[r * cols + c] = Math.exp(x[r * cols + c]! * scale - m);
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= sum;
  }
  return out;
}

export function plainRmsNorm(x: Float64Array, rows: number, cols: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[r * cols + c]! ** 2;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[r * cols + c]! * inv;
  }
  return out;
}

export function plainSwiglu(gateUp: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const g = gateUp[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * gateUp[length + i]!;
  }
  return out;
}

/** max |x| over the arrays given. */
export function maxAbsOf(...arrays: (ArrayLike<number> | undefined)[]): number {
  let m = 0;
  for (const a of arrays) if (a) for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** A deterministic PRG for test data (never for masks). */
export function testPrg(label: string): Prg {
  return Prg.fromSeed('protocol-tests', label);
}
