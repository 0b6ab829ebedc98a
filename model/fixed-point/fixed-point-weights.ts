/**
 * The engine's weight format under the `ring64` profile: every folded matrix as int16 integers
 * with power-of-two scales, 2 bytes per parameter and no float copy beside it.
 *
 * Format (per matrix): `data` Int16Array row-major [outDim, inDim]; the rows fall into
 * consecutive blocks, each with its own exponent e, so X[o, i] ≈ data[o, i] · 2^(−e) for o in
 * that block. Exponents are chosen per block by measurement: e = ⌊log2(32767 / max|X_block|)⌋
 * (the largest exponent at which the block's largest weight still fits in int16), lowered where
 * the fixed-point plan's bit budget says so (the q/k rows, see fixed-point-plan.ts). Biases (qkv
 * of Qwen-style models) stay float64 here and are encoded at the MulW output's exponent when
 * added (a few thousand values per layer at most).
 */
import type { FoldedWeight } from './folded-weights.js';

export interface WeightBlock {
  /** Number of consecutive output rows in the block. */
  rows: number;
  /** The block's scale exponent: X ≈ int · 2^(−exponent). */
  exponent: number;
}

export interface FixedPointWeight {
  name: string;
  outDim: number;
  inDim: number;
  data: Int16Array;
  blocks: WeightBlock[];
  bias?: Float64Array;
}

export const INT16_MAX = 32767;

export function maxAbsOf(a: ArrayLike<number>, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const x = Math.abs(a[i]!);
    if (x > m) m = x;
  }
  return m;
}

/** The largest exponent e with max · 2^e ≤ 32767 (capped at 30 for an all-zero block). */
export function int16Exponent(max: number): number {
  return max > 0 ? Math.min(30, Math.floor(Math.log2(INT16_MAX / max))) : 30;
}

/** Quantises a folded matrix block by block (round to nearest, ties toward +∞). */
export function quantizeWeight(w: FoldedWeight, blocks: WeightBlock[]): FixedPointWeight {
  const total = blocks.reduce((n, b) => n + b.rows, 0);
  if (total !== w.outDim) throw new RangeError(`quantizeWeight ${w.name}: blocks cover ${total} rows, the matrix has ${w.outDim}`);
  const data = new Int16Array(w.outDim * w.inDim);
  let row = 0;
  for (const b of blocks) {
    const scale = 2 ** b.exponent;
    for (let i = row * w.inDim; i < (row + b.rows) * w.inDim; i++) {
      const v = Math.round(w.data[i]! * scale);
      if (v > INT16_MAX || v < -INT16_MAX - 1) throw new RangeError(`quantizeWeight ${w.name}: ${w.data[i]} does not fit int16 at exponent ${b.exponent}`);
      data[i] = v;
    }
    row += b.rows;
  }
  const out: FixedPointWeight = { name: w.name, outDim: w.outDim, inDim: w.inDim, data, blocks: blocks.map((b) => ({ ...b })) };
  if (w.bias) out.bias = w.bias;
  return out;
}

/** The exponent of output column `o` of f(X, y): the block containing row o. */
export function rowExponent(w: { blocks: readonly WeightBlock[] }, o: number): number {
  let row = 0;
  for (const b of w.blocks) {
    if (o < row + b.rows) return b.exponent;
    row += b.rows;
  }
  throw new RangeError(`rowExponent: row ${o} outside the matrix`);
}
