/**
 * The weights as the protocol sees them: the linear maps of a Llama model with the RMSNorm
 * weights γ folded in (W·diag(γ)), so nothing but architecture, shapes, tokenizer and lengths
 * is public (protocol.md, "RMSNorm weights"). q/k/v are one map (rows stacked), gate/up too.
 *
 * Each matrix has a public `scale`: max|X| rounded up to a power of two. The weight mask U is
 * uniform on ±(weightRatio × scale), so the dealer can draw it without seeing X; the scale is
 * the only thing about the values that leaves the engine.
 */
import type { ModelDescription } from '../../model/model-description.js';
import { assertPrivatelyServable } from './private-steps.js';
import { foldedWeightsOf, weightName, type WeightOp } from '../../model/fixed-point/folded-weights.js';

export { weightName, type WeightOp };

export interface WeightSpec {
  name: string;
  op: WeightOp;
  /** Output and input widths of f(X, ·). */
  outDim: number;
  inDim: number;
  /** Power of two ≥ max|X| (public). */
  scale: number;
  hasBias: boolean;
}

export interface PrivateWeight extends WeightSpec {
  /** X, row-major as stored (linear: [out, in]; embedding: [vocab, dim]). */
  data: Float64Array;
  bias?: Float64Array;
}

function powerOfTwoAtLeast(x: number): number {
  return x > 0 ? 2 ** Math.ceil(Math.log2(x)) : 1;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) {
    const x = Math.abs(v);
    if (x > m) m = x;
  }
  return m;
}

/**
 * Folds and stacks the model's weights into the protocol's matrices (P0, at load time;
 * model/fixed-point/folded-weights).
 * @throws UnsupportedPrivateModelError for a model needing a private step the protocol lacks
 */
export function privateWeightsOf(model: ModelDescription): Map<string, PrivateWeight> {
  assertPrivatelyServable(model.id, model.config);
  const out = new Map<string, PrivateWeight>();
  for (const f of foldedWeightsOf(model).values()) {
    const w: PrivateWeight = { name: f.name, op: f.op, outDim: f.outDim, inDim: f.inDim, data: f.data, scale: powerOfTwoAtLeast(maxAbs(f.data)), hasBias: f.bias !== undefined };
    if (f.bias) w.bias = f.bias;
    out.set(w.name, w);
  }
  return out;
}

/** The public part of a weight (what the model card publishes). */
export function specOf(w: WeightSpec): WeightSpec {
  return { name: w.name, op: w.op, outDim: w.outDim, inDim: w.inDim, scale: w.scale, hasBias: w.hasBias };
}
