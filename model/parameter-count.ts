/**
 * How many weights the parties hold for a model: the folded layout of
 * protocol/model/private-weights.ts (embedding and LM head both counted, even when tied, since
 * each party keeps both), every expert of a mixture-of-experts layer, and Gemma's post-norm and
 * Qwen3's q/k-norm γ maps. Norm vectors of `dim` entries are ignored (they are folded away).
 */
import type { ModelConfig } from './model-description.js';

export function foldedParameterCount(c: ModelConfig): number {
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const experts = c.variant?.moe?.nExperts ?? 1;
  const ffn = experts * 3 * c.hiddenDim * c.dim + (c.variant?.moe ? experts * c.dim : 0);
  const qkNorm = c.variant?.qkNorm ? 2 * c.headDim * c.headDim : 0;
  const postNorms = c.variant?.postNorms ? 2 * c.dim : 0;
  return c.nLayers * (c.dim * (q + 2 * kv) + q * c.dim + ffn + qkNorm + postNorms) + 2 * c.vocabSize * c.dim;
}
