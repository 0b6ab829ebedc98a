/**
 * The embedding's pooling under the `ring64` profile, shared by the fixed-point oracle and the
 * private embedding pass (protocol/schedule/ring-embedding-program.ts), so that both build the
 * very same integers.
 *
 * The pooled embedding is mean(RMSNorm(h_t) ⊙ γ) over the input's rows t, with h_t the final
 * residual stream: RMSNorm without γ is the user's Elem (output at plan.finalNorm), the row sum
 * is local on the shares (linear), γ is applied once to the sum (a diagonal product: γ ⊙ Σ =
 * Σ γ ⊙), and the user divides by the row count after decoding (a ring has no division).
 *
 * γ's exponent is public and depends only on public facts (the plan, the row count, the width),
 * never on γ: e_γ = min(16, 61 − e_f − ⌈log2 rows⌉ − ⌈log2 √dim⌉ − 4). RMSNorm's outputs are
 * at most √dim in magnitude, so with |γ| < 2^4 every integer of the product stays below 2^61.
 * The engine refuses a model whose γ leaves that range (ringEmbeddingGamma).
 */
import { decodeFixed, encodeFixed, type Ring } from '../../compute/ring64.js';
import { RING_VALUE_LIMIT_BITS } from '../../model/fixed-point/fixed-point-plan.js';

/** |γ| must stay below 2^GAMMA_BITS. */
export const EMBEDDING_GAMMA_BITS = 4;
const MAX_GAMMA_EXPONENT = 16;
const MIN_GAMMA_EXPONENT = 6;

export class EmbeddingRangeError extends Error {
  override readonly name = 'EmbeddingRangeError';
}

/** The public exponent γ is encoded at for an input of `rows` tokens (see the file comment). */
export function embeddingGammaExponent(finalNormExp: number, rows: number, dim: number): number {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`embedding: ${rows} rows`);
  const e = Math.min(MAX_GAMMA_EXPONENT, RING_VALUE_LIMIT_BITS - finalNormExp - Math.ceil(Math.log2(rows)) - Math.ceil(Math.log2(Math.sqrt(dim))) - EMBEDDING_GAMMA_BITS);
  if (e < MIN_GAMMA_EXPONENT) throw new EmbeddingRangeError(`embedding: an input of ${rows} tokens leaves only ${e} bits for the final norm's weights`);
  return e;
}

/** γ as ring integers at `exponent` (the engine's copy); refuses |γ| ≥ 2^GAMMA_BITS. */
export function ringEmbeddingGamma(gamma: ArrayLike<number>, exponent: number): Ring {
  for (let i = 0; i < gamma.length; i++) {
    if (!(Math.abs(gamma[i]!) < 2 ** EMBEDDING_GAMMA_BITS)) throw new EmbeddingRangeError(`embedding: the final norm's weight ${i} (${gamma[i]}) is outside ±2^${EMBEDDING_GAMMA_BITS}`);
  }
  return encodeFixed(gamma, exponent);
}

/** Σ over rows of x[rows, cols] (mod 2^64). */
export function ringSumRows(x: Ring, rows: number, cols: number): Ring {
  if (x.length !== rows * cols) throw new RangeError(`ringSumRows: ${x.length} elements, expected ${rows * cols}`);
  const out = new BigUint64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c] = BigInt.asUintN(64, out[c]! + x[base + c]!);
  }
  return out;
}

/** The mean-pooled embedding as floats: the opened γ ⊙ Σ decoded at e_f + e_γ, divided by the row count. */
export function decodePooledEmbedding(pooled: Ring, exponent: number, rows: number): Float64Array {
  const out = decodeFixed(pooled, exponent);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / rows;
  return out;
}
