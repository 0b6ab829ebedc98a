/**
 * Tensor names of Llama-family checkpoints in transformers' layout (shared by Llama, Mistral
 * and Qwen2), and the shapes our model description expects for them: what the writer emits.
 * The loader reads the other families' names itself (load-huggingface-model.ts).
 */
import type { ModelConfig } from '../model-description.js';

export const EMBEDDING = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

export type LayerTensor =
  | 'attnNorm' | 'wq' | 'wk' | 'wv' | 'wo' | 'bq' | 'bk' | 'bv' | 'ffnNorm' | 'w1' | 'w2' | 'w3';

const LAYER_SUFFIX: Readonly<Record<LayerTensor, string>> = {
  attnNorm: 'input_layernorm.weight',
  wq: 'self_attn.q_proj.weight',
  wk: 'self_attn.k_proj.weight',
  wv: 'self_attn.v_proj.weight',
  wo: 'self_attn.o_proj.weight',
  bq: 'self_attn.q_proj.bias',
  bk: 'self_attn.k_proj.bias',
  bv: 'self_attn.v_proj.bias',
  ffnNorm: 'post_attention_layernorm.weight',
  w1: 'mlp.gate_proj.weight',
  w2: 'mlp.down_proj.weight',
  w3: 'mlp.up_proj.weight',
};

export function layerTensorName(layer: number, tensor: LayerTensor): string {
  return `model.layers.${layer}.${LAYER_SUFFIX[tensor]}`;
}

/** The PyTorch shape ([out, in] for weights) of each layer tensor. */
export function layerTensorShape(config: ModelConfig, tensor: LayerTensor): number[] {
  const q = config.nHeads * config.headDim;
  const kv = config.nKvHeads * config.headDim;
  switch (tensor) {
    case 'attnNorm':
    case 'ffnNorm':
      return [config.dim];
    case 'wq':
      return [q, config.dim];
    case 'wk':
    case 'wv':
      return [kv, config.dim];
    case 'wo':
      return [config.dim, q];
    case 'bq':
      return [q];
    case 'bk':
    case 'bv':
      return [kv];
    case 'w1':
    case 'w3':
      return [config.hiddenDim, config.dim];
    case 'w2':
      return [config.dim, config.hiddenDim];
  }
}

/** Tensors that carry RoPE'd rows, and how many heads they hold. */
export function ropeHeads(config: ModelConfig, tensor: LayerTensor): number | undefined {
  if (tensor === 'wq' || tensor === 'bq') return config.nHeads;
  if (tensor === 'wk' || tensor === 'bk') return config.nKvHeads;
  return undefined;
}
