/**
 * Gemma's FFN gate: GELU with the tanh approximation (transformers' "gelu_pytorch_tanh"),
 * gelu(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))), and the gated form gelu(g) ⊙ u.
 * Element-wise like SwiGLU, so a private form would be a paired Elem step (not built yet:
 * protocol/model/private-steps.ts refuses such models).
 */
import { allocLike, type FloatArray } from './float-array.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** out = geluTanh(gate) ⊙ up, element-wise. */
export function geglu<T extends FloatArray>(gate: T, up: FloatArray, out: T = allocLike(gate, gate.length)): T {
  if (up.length !== gate.length) throw new RangeError(`geglu: gate has ${gate.length} elements, up has ${up.length}`);
  for (let i = 0; i < gate.length; i++) out[i] = geluTanh(gate[i]!) * up[i]!;
  return out;
}
