/**
 * The nonlinear functions P1 evaluates in the clear on a permuted view (Elem's η = f(π(x))).
 * Each must commute with its permutation shape: row-wise for RMSNorm and softmax, paired flat
 * for SwiGLU (protocol.md, "Elem").
 */
import { rmsNormalize } from '../../plaintext/ops/rmsnorm.js';
import { swiglu } from '../../plaintext/ops/silu.js';
import { geglu } from '../../plaintext/ops/gelu.js';
import { softmaxRows } from '../../plaintext/ops/softmax.js';
import type { PermutationShape } from '../permutations/permutation.js';

export type ElemFunction =
  | { kind: 'rmsnorm'; rows: number; cols: number; eps: number }
  /**
   * `softcap` (Gemma 2): the scaled scores become cap·tanh(s/cap) first, except entries below
   * `maskedBelow` (the causal and window masks), which stay masked.
   */
  | { kind: 'softmax'; rows: number; cols: number; scale: number; softcap?: number; maskedBelow?: number }
  /** x holds two blocks of `length` elements, gate then up; output silu(gate) ⊙ up. */
  | { kind: 'swiglu'; length: number }
  /** Gemma: the same pairing, output gelu_tanh(gate) ⊙ up. */
  | { kind: 'geglu'; length: number };

const paired = (f: ElemFunction): f is Extract<ElemFunction, { length: number }> => f.kind === 'swiglu' || f.kind === 'geglu';

export function permutationShapeOf(f: ElemFunction): PermutationShape {
  return paired(f) ? { kind: 'flat', length: f.length } : { kind: 'row-wise', rows: f.rows, cols: f.cols };
}

export function inputSizeOf(f: ElemFunction): number {
  return paired(f) ? 2 * f.length : f.rows * f.cols;
}

export function outputSizeOf(f: ElemFunction): number {
  return paired(f) ? f.length : f.rows * f.cols;
}

/** η = f(view), where view is π(x) in the clear (P1 only). */
export function evaluateElem(f: ElemFunction, view: Float64Array): Float64Array {
  switch (f.kind) {
    case 'rmsnorm':
      return rmsNormalize(view, f.rows, f.cols, f.eps);
    case 'softmax': {
      const out = Float64Array.from(view, (v) => v * f.scale);
      const cap = f.softcap;
      if (cap !== undefined) {
        const below = f.maskedBelow ?? -Infinity;
        for (let i = 0; i < out.length; i++) out[i] = view[i]! < below ? -Infinity : cap * Math.tanh(out[i]! / cap);
      }
      softmaxRows(out, f.rows, f.cols);
      return out;
    }
    case 'swiglu':
      return swiglu(view.subarray(0, f.length), view.subarray(f.length));
    case 'geglu':
      return geglu(view.subarray(0, f.length), view.subarray(f.length));
  }
}
