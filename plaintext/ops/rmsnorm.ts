/**
 * RMSNorm, split in its two halves so the private protocol can use the first alone:
 * y = x / sqrt(mean(x²) + ε) per row (a row-wise Elem step on the permuted view, since it
 * commutes with permuting a row's features), then ⊙ γ, which PermLLM would make public and
 * which we instead fold into the next linear layer (protocol.md, "RMSNorm weights").
 */
import { allocLike, type FloatArray } from './float-array.js';

/** Each row of x[rows, dim] divided by its root mean square (plus ε); no γ. */
export function rmsNormalize<T extends FloatArray>(x: T, rows: number, dim: number, eps: number, out: T = allocLike(x, rows * dim)): T {
  if (x.length !== rows * dim) throw new RangeError(`rmsNormalize x: expected ${rows}x${dim} = ${rows * dim} elements, got ${x.length}`);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[base + i]! * x[base + i]!;
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[base + i] = x[base + i]! * inv;
  }
  return out;
}

/** Multiplies every row of x[rows, dim] by γ[dim], element-wise. */
export function applyGamma<T extends FloatArray>(x: T, rows: number, dim: number, gamma: FloatArray, out: T = allocLike(x, rows * dim)): T {
  if (gamma.length !== dim) throw new RangeError(`applyGamma gamma: expected ${dim} elements, got ${gamma.length}`);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    for (let i = 0; i < dim; i++) out[base + i] = x[base + i]! * gamma[i]!;
  }
  return out;
}

/** Full RMSNorm: normalise, then ⊙ γ. */
export function rmsNorm<T extends FloatArray>(x: T, rows: number, dim: number, eps: number, gamma: FloatArray, out?: T): T {
  const y = rmsNormalize(x, rows, dim, eps, out);
  return applyGamma(y, rows, dim, gamma, y);
}
