/**
 * The nonlinear steps of the `ring64` profile as the user evaluates them on a view it holds in
 * the clear (Elem's η = f(π(x))), and as the fixed-point oracle evaluates them on the unpermuted
 * values: decode at the plan's exponent, compute in float64, re-encode at the output exponent.
 *
 * Bit-exactness with the oracle needs f(π(x)) = π(f(x)) exactly, not just mathematically, so
 * every row reduction (RMSNorm's sum of squares, softmax's sum) adds its terms in sorted order:
 * the result depends on the row's multiset of values only, never on the permutation.
 *
 * Overflow is never silent: any view integer at or beyond 2^61 (fixed-point-plan.ts,
 * RING_VALUE_LIMIT_BITS) ends the request with a RingOverflowError. Scores may also sit in the
 * causal-mask zone −2^62 ± 2^60, which decodes to −∞.
 */
import { encodeFixed, words, type Ring } from '../../compute/ring64.js';
import { silu } from '../ops/silu.js';

/** Integers of legitimate values stay below 2^61: hi word (signed) within ±2^29. */
const HI_LIMIT = 2 ** 29;
/** The causal mask adds −2^62: hi word near −2^30. */
const MASK_HI = -(2 ** 30);
const MASK_HI_SLACK = 2 ** 28;
const TWO32 = 4294967296;

export class RingOverflowError extends Error {
  override readonly name = 'RingOverflowError';
  constructor(
    readonly what: string,
    limitBits = 61,
  ) {
    super(`fixed-point overflow: a value in the ${what} reached 2^${limitBits} or more, outside the ring64 plan's range; the request is ended rather than answered with wrapped values`);
  }
}

/**
 * Signed decoding with the range check. `masked` lets the causal-mask zone through as −∞.
 */
export function decodeChecked(view: Ring, exponent: number, what: string, masked = false, out = new Float64Array(view.length)): Float64Array {
  const x = words(view);
  const signed = new Int32Array(x.buffer, x.byteOffset, x.length);
  const inv = 2 ** -exponent;
  for (let i = 0; i < view.length; i++) {
    const hi = signed[2 * i + 1]!;
    if (hi >= HI_LIMIT || hi < -HI_LIMIT) {
      if (masked && Math.abs(hi - MASK_HI) < MASK_HI_SLACK) {
        out[i] = -Infinity;
        continue;
      }
      throw new RingOverflowError(what);
    }
    out[i] = (hi * TWO32 + x[2 * i]!) * inv;
  }
  return out;
}

/** Re-encoding with the same limit: a result the ring cannot carry ends the request too. */
export function encodeChecked(values: Float64Array, exponent: number, what: string): Ring {
  const limit = 2 ** (61 - exponent);
  for (let i = 0; i < values.length; i++) if (!(Math.abs(values[i]!) < limit)) throw new RingOverflowError(`${what} (re-encoding)`);
  return encodeFixed(values, exponent);
}

/** Sum of a row's terms in ascending order (permutation-invariant; sorts `terms` in place). */
export function sortedSum(terms: Float64Array): number {
  terms.sort();
  let s = 0;
  for (let i = 0; i < terms.length; i++) s += terms[i]!;
  return s;
}

/** RMSNorm without γ (γ is folded into the next weight): x / sqrt(mean(x²) + eps), per row. */
export function rmsnormFixed(view: Ring, rows: number, cols: number, eps: number, inExp: number, outExp: number): Ring {
  const x = decodeChecked(view, inExp, 'RMSNorm input');
  const out = new Float64Array(x.length);
  const sq = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) sq[c] = x[base + c]! * x[base + c]!;
    const inv = 1 / Math.sqrt(sortedSum(sq) / cols + eps);
    for (let c = 0; c < cols; c++) out[base + c] = x[base + c]! * inv;
  }
  return encodeChecked(out, outExp, 'RMSNorm output');
}

/**
 * Softmax of scale · x per row; masked entries (−∞) get probability 0. With `softcap` (Gemma 2's
 * attention logit soft-capping) the scaled scores first become cap·tanh(s/cap), element-wise, so
 * it commutes with the row's permutation; masked entries stay −∞.
 */
export function softmaxFixed(view: Ring, rows: number, cols: number, scale: number, inExp: number, outExp: number, softcap?: number): Ring {
  const x = decodeChecked(view, inExp, 'attention scores', true);
  if (softcap !== undefined) {
    // The float pass caps the scaled score: x ← cap·tanh(x·scale/cap), then no further scale.
    for (let i = 0; i < x.length; i++) if (x[i] !== -Infinity) x[i] = softcap * Math.tanh((x[i]! * scale) / softcap);
    scale = 1;
  }
  const out = new Float64Array(x.length);
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c]! * scale);
    if (max === -Infinity) throw new RingOverflowError('attention scores (a fully masked row)');
    // Each exponential once, kept twice: e is sorted in place by sortedSum, out keeps the row's order.
    for (let c = 0; c < cols; c++) e[c] = out[base + c] = Math.exp(x[base + c]! * scale - max);
    const inv = 1 / sortedSum(e);
    for (let c = 0; c < cols; c++) out[base + c] = out[base + c]! * inv;
  }
  return encodeChecked(out, outExp, 'attention probabilities');
}

/** silu(gate) ⊙ up for a view holding [gate block | up block] of `length` each. */
export function swigluFixed(view: Ring, length: number, inExp: number, outExp: number): Ring {
  const x = decodeChecked(view, inExp, 'SwiGLU input');
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = silu(x[i]!) * x[length + i]!;
  return encodeChecked(out, outExp, 'SwiGLU output');
}

/** The logits as the user reads them (its permuted view, or the oracle's vocabulary order). */
export function decodeLogits(view: Ring, exponent: number): Float64Array {
  return decodeChecked(view, exponent, 'logits');
}
