/**
 * Gemma's FFN gate in the `ring64` profile: gelu_tanh(gate) ⊙ up on the user's view of the paired
 * [gate block | up block] (a paired Elem with one flat permutation over both blocks, like SwiGLU).
 * Decode at the plan's exponent, the float op of the plaintext pass (plaintext/ops/gelu.ts),
 * re-encode at the output exponent.
 */
import type { Ring } from '../../compute/ring64.js';
import { geluTanh } from '../ops/gelu.js';
import { decodeChecked, encodeChecked } from './fixed-point-elem.js';

export function gegluFixed(view: Ring, length: number, inExp: number, outExp: number): Ring {
  const x = decodeChecked(view, inExp, 'GELU gate input');
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = geluTanh(x[i]!) * x[length + i]!;
  return encodeChecked(out, outExp, 'GELU gate output');
}
