/**
 * What the user computes in the single-view attention mode with deferred normalisation (issue
 * 12), under the `ring64` profile, and what the fixed-point oracle computes on unpermuted values:
 * the same functions, so private == oracle bit for bit.
 *
 * Why the user's permuted view gives the very same integers: the residual view is permuted within
 * each row, and 1/rms(x) adds the row's squares in sorted order (a function of the multiset);
 * q̂, k̂, v̂ are element-wise re-encodings; the scores are exact ring dot products over a head's
 * coordinates, unchanged when q and k of a KV group share one coordinate permutation σ_g; softmax
 * runs over keys in position order (not permuted); P·V̂ is exact in the ring, so the head output
 * is τ_g of the oracle's, re-encoded element-wise.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { ringLinearRing } from '../../compute/ring-gemm.js';
import type { Ring } from '../../compute/ring64.js';
import { silu } from '../ops/silu.js';
import { decodeChecked, encodeChecked, softmaxFixed } from './fixed-point-elem.js';
import { addCausalMask, ringAttentionValues, type RingAttentionShape } from './ring-attention.js';
import { RingRows } from './ring-rows.js';
import type { SingleViewLayerPlan } from './single-view-plan.js';

/** One layer's K/V memory in the user's coordinates: k̂ at e_q, v̂ at e_v. */
export class SingleViewCache {
  readonly keys: RingRows;
  readonly values: RingRows;
  constructor(kvDim: number, capacity: number) {
    this.keys = new RingRows(kvDim, capacity);
    this.values = new RingRows(kvDim, capacity);
  }
}

function sortedSum(terms: Float64Array): number {
  terms.sort();
  let s = 0;
  for (let i = 0; i < terms.length; i++) s += terms[i]!;
  return s;
}

/** 1/sqrt(mean(x²) + eps) per row of the residual view [rows, cols] at exponent `exp`. */
export function rowInverseRms(view: Ring, rows: number, cols: number, eps: number, exp: number): Float64Array {
  const x = decodeChecked(view, exp, 'residual view');
  const inv = new Float64Array(rows);
  const sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sq[c] = x[r * cols + c]! * x[r * cols + c]!;
    inv[r] = 1 / Math.sqrt(sortedSum(sq) / cols + eps);
  }
  return inv;
}

/** Element-wise: decode at inExp, times the row's 1/rms, re-encode at outExp. */
export function normalizeEncode(view: Ring, rows: number, width: number, inv: Float64Array, inExp: number, outExp: number, what: string): Ring {
  const x = decodeChecked(view, inExp, what);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) x[r * width + c] = x[r * width + c]! * inv[r]!;
  return encodeChecked(x, outExp, what);
}

/**
 * One layer's attention on the user's side: q [rows, nHeads·hd] and k, v [rows, nKv·hd] as the
 * engine's raw products (q, k rotated), normalised here; appends k̂, v̂ to the cache; returns the
 * head outputs [rows, nHeads·hd] at L.attention.
 */
export async function singleViewAttention(backend: ComputeBackend, s: RingAttentionShape, L: SingleViewLayerPlan, cache: SingleViewCache, inv: Float64Array, q: Ring, k: Ring, v: Ring, rows: number, start: number): Promise<Ring> {
  const qDim = s.nHeads * s.headDim;
  const kvDim = s.nKvHeads * s.headDim;
  const group = s.nHeads / s.nKvHeads;
  const qh = normalizeEncode(q, rows, qDim, inv, L.rawQk, L.q, 'query view');
  cache.keys.append(normalizeEncode(k, rows, kvDim, inv, L.rawQk, L.q, 'key view'));
  cache.values.append(normalizeEncode(v, rows, kvDim, inv, L.rawV, L.value, 'value view'));
  const keys = cache.keys.rows;
  if (keys !== start + rows) throw new RangeError(`single-view attention: ${keys} cached keys, expected ${start + rows}`);
  const K = cache.keys.view();
  const scores = new BigUint64Array(s.nHeads * rows * keys);
  const Kg = new BigUint64Array(keys * s.headDim);
  const Qg = new BigUint64Array(rows * group * s.headDim);
  for (let g = 0; g < s.nKvHeads; g++) {
    for (let n = 0; n < keys; n++) Kg.set(K.subarray(n * kvDim + g * s.headDim, n * kvDim + (g + 1) * s.headDim), n * s.headDim);
    // Rows (r, j) of Qg: query row r, head g·group + j.
    for (let r = 0; r < rows; r++) Qg.set(qh.subarray(r * qDim + g * group * s.headDim, r * qDim + (g + 1) * group * s.headDim), r * group * s.headDim);
    const Sg = await ringLinearRing(backend, Qg, rows * group, Kg, keys, s.headDim); // [rows·group, keys]
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < group; j++) scores.set(Sg.subarray((r * group + j) * keys, (r * group + j + 1) * keys), ((g * group + j) * rows + r) * keys);
    }
  }
  addCausalMask(scores, s.nHeads, rows, keys, start);
  const probs = softmaxFixed(scores, s.nHeads * rows, keys, 1 / Math.sqrt(s.headDim), 2 * L.q, L.probs);
  const out = await ringAttentionValues(backend, s, cache.values.view(), keys, probs, rows);
  return encodeChecked(decodeChecked(out, L.probs + L.value, 'attention output'), L.attention, 'attention output');
}

/** silu(g / rms) · (u / rms) for [gate rows | up rows] of the raw products, each [rows, hidden]. */
export function deferredSwiglu(view: Ring, rows: number, hidden: number, inv: Float64Array, inExp: number, outExp: number): Ring {
  const x = decodeChecked(view, inExp, 'SwiGLU input');
  const n = rows * hidden;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = inv[Math.floor(i / hidden)]!;
    out[i] = silu(x[i]! * s) * (x[n + i]! * s);
  }
  return encodeChecked(out, outExp, 'SwiGLU output');
}
