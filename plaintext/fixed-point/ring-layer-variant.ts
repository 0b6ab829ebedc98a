/**
 * The per-layer public parts of a model variant under `ring64`, one definition shared by the
 * fixed-point oracle and the private program (model-description.ts, ModelVariant):
 * - the RoPE of each layer (Gemma 3's sliding-window layers rotate with their own θ);
 * - the sliding window of each layer (Gemma 2/3 alternate): public metadata, so the engine (and
 *   the oracle) add the same −2^62 the causal mask adds to every key before the window;
 * - the softmax's score scale (query_pre_attn_scalar^(−1/2)) and attention soft-cap, which the
 *   user applies inside its softmax Elem;
 * - the final logit soft-cap, which the user applies to its (permuted) view of the logits:
 *   element-wise, so the permutation does not matter and nothing else is revealed.
 */
import type { ModelConfig } from '../../model/model-description.js';
import { softcapInPlace } from '../ops/softcap.js';
import { CAUSAL_MASK_RING, RingRope } from './ring-attention.js';

/** Each layer's RingRope (one shared table unless the variant has a local RoPE). */
export function ringLayerRopes(config: ModelConfig, bits: number, global: RingRope = RingRope.forConfig(config, bits)): RingRope[] {
  const local = config.variant?.localRope;
  const windows = config.variant?.layerWindows;
  const localRope = local ? RingRope.forConfig({ ...config, ropeTheta: local.theta, ropeScaling: local.scaling }, bits) : undefined;
  return Array.from({ length: config.nLayers }, (_, l) => (localRope && windows?.[l] != null ? localRope : global));
}

/** Layer l's sliding window (undefined: full causal attention). */
export function layerWindow(config: ModelConfig, layer: number): number | undefined {
  return config.variant?.layerWindows?.[layer] ?? undefined;
}

/** Adds −2^62 to scores [heads, rows, keys] of keys before each query's window (query at p sees p − w + 1 … p), in place. */
export function addWindowMask(scores: BigUint64Array, heads: number, rows: number, keys: number, start: number, window: number): void {
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < rows; r++) {
      const base = (h * rows + r) * keys;
      const first = Math.min(keys, Math.max(0, start + r + 1 - window));
      for (let k = 0; k < first; k++) scores[base + k] = BigInt.asUintN(64, scores[base + k]! + CAUSAL_MASK_RING);
    }
  }
}

/** The softmax step's public parameters: the score scale and the attention soft-cap. */
export function attentionSoftmax(config: ModelConfig): { scale: number; softcap?: number } {
  const scale = config.variant?.attentionScale ?? 1 / Math.sqrt(config.headDim);
  const softcap = config.variant?.attentionSoftcap;
  return softcap === undefined ? { scale } : { scale, softcap };
}

/** The user's logits after final soft-capping (when the variant has it), in place. */
export function capLogits(config: ModelConfig, logits: Float64Array): Float64Array {
  const cap = config.variant?.finalSoftcap;
  if (cap !== undefined) softcapInPlace(logits, cap);
  return logits;
}
