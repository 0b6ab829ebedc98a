/**
 * config.json of a synthetic model of one of the families beyond the Llama layout, built from
 * that family's real config (field names, and the values a small model can keep: activation,
 * norms' ε, RoPE θ and scaling, soft-caps, query_pre_attn_scalar, window pattern, expert counts
 * where given), with the sizes of the synthetic spec.
 */
import type { WeightDtype } from '../huggingface/safetensors-dtype.js';

export const SYNTHETIC_FAMILIES = ['llama3.2', 'qwen3', 'phi3', 'gemma2', 'gemma3', 'mixtral', 'qwen3-moe', 'gpt-oss'] as const;
export type SyntheticFamily = (typeof SYNTHETIC_FAMILIES)[number];

export interface FamilySizes {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxSeqLen: number;
  tiedEmbeddings: boolean;
  dtype: WeightDtype;
  bosTokenId?: number | undefined;
  eosTokenId?: number | undefined;
  /** Mixture of experts: number of experts and experts per token. */
  nExperts?: number | undefined;
  expertsPerToken?: number | undefined;
  /** Gemma: the sliding window of the local layers. */
  slidingWindow?: number | undefined;
}

const TORCH_DTYPE: Record<WeightDtype, string> = { f32: 'float32', f16: 'float16', bf16: 'bfloat16' };

export function familyConfigJson(family: SyntheticFamily, s: FamilySizes): Record<string, unknown> {
  const base: Record<string, unknown> = {
    hidden_size: s.dim,
    intermediate_size: s.hiddenDim,
    num_hidden_layers: s.nLayers,
    num_attention_heads: s.nHeads,
    num_key_value_heads: s.nKvHeads,
    head_dim: s.headDim,
    vocab_size: s.vocabSize,
    max_position_embeddings: s.maxSeqLen,
    tie_word_embeddings: s.tiedEmbeddings,
    torch_dtype: TORCH_DTYPE[s.dtype],
    attention_bias: false,
    attention_dropout: 0.0,
    initializer_range: 0.02,
    use_cache: true,
    ...(s.bosTokenId === undefined ? {} : { bos_token_id: s.bosTokenId }),
    ...(s.eosTokenId === undefined ? {} : { eos_token_id: s.eosTokenId }),
  };
  const experts = (what: string) => {
    if (s.nExperts === undefined || s.expertsPerToken === undefined) throw new RangeError(`synthetic ${what}: nExperts and expertsPerToken are required`);
    return { experts: s.nExperts, perToken: s.expertsPerToken };
  };
  switch (family) {
    case 'llama3.2':
      return {
        architectures: ['LlamaForCausalLM'], model_type: 'llama', ...base, hidden_act: 'silu', mlp_bias: false, pretraining_tp: 1, rms_norm_eps: 1e-5,
        rope_theta: 500000.0,
        rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      };
    case 'qwen3':
      return {
        architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', ...base, hidden_act: 'silu', rms_norm_eps: 1e-6, rope_theta: 1000000,
        rope_scaling: null, sliding_window: null, use_sliding_window: false, max_window_layers: s.nLayers,
      };
    case 'phi3':
      return {
        architectures: ['Phi3ForCausalLM'], model_type: 'phi3', ...base, hidden_act: 'silu', rms_norm_eps: 1e-5, rope_theta: 10000.0, rope_scaling: null,
        original_max_position_embeddings: s.maxSeqLen, sliding_window: Math.max(1, s.maxSeqLen / 2 - 1), embd_pdrop: 0.0, resid_pdrop: 0.0,
      };
    case 'gemma2':
      return {
        architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', ...base, hidden_act: 'gelu_pytorch_tanh', hidden_activation: 'gelu_pytorch_tanh',
        rms_norm_eps: 1e-6, rope_theta: 10000.0, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0, query_pre_attn_scalar: s.headDim,
        sliding_window: s.slidingWindow ?? 4096, cache_implementation: 'hybrid',
      };
    case 'gemma3':
      return {
        architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', ...base, hidden_activation: 'gelu_pytorch_tanh', rms_norm_eps: 1e-6,
        rope_theta: 1000000, rope_local_base_freq: 10000, rope_scaling: null, attn_logit_softcapping: null, final_logit_softcapping: null,
        query_pre_attn_scalar: s.headDim, sliding_window: s.slidingWindow ?? 512, sliding_window_pattern: 6,
      };
    case 'mixtral': {
      const e = experts('mixtral');
      return {
        architectures: ['MixtralForCausalLM'], model_type: 'mixtral', ...base, hidden_act: 'silu', rms_norm_eps: 1e-5, rope_theta: 1000000.0,
        num_local_experts: e.experts, num_experts_per_tok: e.perToken, output_router_logits: false, router_aux_loss_coef: 0.02, sliding_window: null,
      };
    }
    case 'qwen3-moe': {
      const e = experts('qwen3-moe');
      return {
        architectures: ['Qwen3MoeForCausalLM'], model_type: 'qwen3_moe', ...base, hidden_act: 'silu', rms_norm_eps: 1e-6, rope_theta: 1000000.0,
        rope_scaling: null, num_experts: e.experts, num_experts_per_tok: e.perToken, moe_intermediate_size: s.hiddenDim, intermediate_size: 4 * s.hiddenDim,
        norm_topk_prob: true, decoder_sparse_step: 1, mlp_only_layers: [], output_router_logits: false, router_aux_loss_coef: 0.001,
        sliding_window: null, use_sliding_window: false, max_window_layers: s.nLayers,
      };
    }
    case 'gpt-oss': {
      const e = experts('gpt-oss');
      return {
        architectures: ['GptOssForCausalLM'], model_type: 'gpt_oss', ...base, attention_bias: true, hidden_act: 'silu', rms_norm_eps: 1e-5,
        rope_theta: 150000,
        rope_scaling: { beta_fast: 32.0, beta_slow: 1.0, factor: 32.0, original_max_position_embeddings: 4096, rope_type: 'yarn', truncate: false },
        initial_context_length: 4096, num_local_experts: e.experts, num_experts_per_tok: e.perToken, experts_per_token: e.perToken,
        layer_types: Array.from({ length: s.nLayers }, (_, i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention')),
        sliding_window: s.slidingWindow ?? 128, swiglu_limit: 7.0, output_router_logits: false, router_aux_loss_coef: 0.9,
      };
    }
  }
}
