/**
 * SiLU and the SwiGLU gate silu(g) ⊙ u of the Llama FFN. Element-wise, so in the private
 * protocol g and u go through one shared permutation (a paired Elem step).
 */
import { allocLike, type FloatArray } from './float-array.js';

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** silu applied element-wise, in place. */
export function siluInPlace(x: FloatArray): void {
  for (let i = 0; i < x.length; i++) x[i] = silu(x[i]!);
}

/** out = silu(gate) ⊙ up, element-wise. */
export function swiglu<T extends FloatArray>(gate: T, up: FloatArray, out: T = allocLike(gate, gate.length)): T {
  if (up.length !== gate.length) throw new RangeError(`swiglu: gate has ${gate.length} elements, up has ${up.length}`);
  for (let i = 0; i < gate.length; i++) out[i] = silu(gate[i]!) * up[i]!;
  return out;
}
