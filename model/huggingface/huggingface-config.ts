/**
 * `config.json` of a Hugging Face Llama-family checkpoint ↔ our `ModelConfig`.
 *
 * Accepted: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM (identical tensor names and
 * math: RMSNorm, RoPE, GQA attention, SwiGLU; Qwen2 adds q/k/v biases). Everything else —
 * other architectures, RoPE scaling, non-SiLU activations, MLP biases — is rejected with a
 * ModelLoadError that lists every problem found, rather than loading a model whose outputs
 * would silently differ from the original.
 *
 * Sliding-window attention (Mistral v0.1, Qwen2 with `use_sliding_window`) equals full causal
 * attention for every sequence no longer than the window, so such a model is accepted with its
 * context limited to the window: exact, never approximate.
 */
import { z } from 'zod';
import type { Architecture, ModelConfig } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';
import type { WeightDtype } from './safetensors-dtype.js';

const ARCHITECTURES: Readonly<Record<string, { architecture: Architecture; modelType: string }>> = {
  LlamaForCausalLM: { architecture: 'llama', modelType: 'llama' },
  Qwen2ForCausalLM: { architecture: 'qwen2', modelType: 'qwen2' },
  MistralForCausalLM: { architecture: 'mistral', modelType: 'mistral' },
};

const positiveInt = z.number().int().positive();

const configSchema = z
  .object({
    architectures: z.array(z.string()).min(1),
    hidden_size: positiveInt,
    intermediate_size: positiveInt,
    num_hidden_layers: positiveInt,
    num_attention_heads: positiveInt,
    num_key_value_heads: positiveInt.nullish(),
    head_dim: positiveInt.nullish(),
    vocab_size: positiveInt,
    max_position_embeddings: positiveInt,
    rope_theta: z.number().positive().default(10000),
    // transformers' LlamaConfig default.
    rms_norm_eps: z.number().positive().default(1e-6),
    tie_word_embeddings: z.boolean().default(false),
    hidden_act: z.string().default('silu'),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    rope_scaling: z.object({ type: z.string().optional(), rope_type: z.string().optional() }).passthrough().nullish(),
    sliding_window: positiveInt.nullish(),
    use_sliding_window: z.boolean().optional(),
  })
  .passthrough();

export type HuggingFaceConfigJson = z.input<typeof configSchema>;

export interface ParsedHuggingFaceConfig {
  config: ModelConfig;
  /** The HF architecture class name, e.g. "LlamaForCausalLM". */
  architectureClass: string;
  /** Set when a sliding window limited `config.maxSeqLen` below max_position_embeddings. */
  slidingWindow?: number;
}

/**
 * Validates a parsed config.json. `file` is the path used in errors. Throws one
 * ModelLoadError listing all problems.
 */
export function parseHuggingFaceConfig(json: unknown, file: string): ParsedHuggingFaceConfig {
  const result = configSchema.safeParse(json);
  if (!result.success) {
    throw new ModelLoadError(
      file,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
    );
  }
  const c = result.data;
  const problems: string[] = [];
  const architectureClass = c.architectures[0]!;
  const known = ARCHITECTURES[architectureClass];
  if (!known) {
    problems.push(`architecture ${architectureClass} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  const nHeads = c.num_attention_heads;
  const nKvHeads = c.num_key_value_heads ?? nHeads;
  if (c.head_dim == null && c.hidden_size % nHeads !== 0) {
    problems.push(`hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${nHeads} and no head_dim is given`);
  }
  const headDim = c.head_dim ?? Math.floor(c.hidden_size / nHeads);
  if (headDim % 2 !== 0) problems.push(`head dimension ${headDim} must be even for RoPE`);
  if (nHeads % nKvHeads !== 0) {
    problems.push(`num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKvHeads}`);
  }
  if (c.hidden_act !== 'silu' && c.hidden_act !== 'swish') {
    problems.push(`hidden_act ${c.hidden_act} is not supported (only silu)`);
  }
  if (c.mlp_bias) problems.push('mlp_bias: true is not supported (MLP projections without bias only)');
  if (c.attention_bias && architectureClass !== 'Qwen2ForCausalLM') {
    problems.push('attention_bias: true is not supported (it adds an o_proj bias; only q/k/v biases are)');
  }
  if (c.rope_scaling) {
    const kind = c.rope_scaling.rope_type ?? c.rope_scaling.type ?? '(unnamed)';
    if (kind !== 'default') {
      problems.push(`rope_scaling type "${kind}" is not implemented (only plain RoPE with rope_theta is)`);
    }
  }
  if (problems.length > 0) throw new ModelLoadError(file, problems.join('; '));

  let maxSeqLen = c.max_position_embeddings;
  let slidingWindow: number | undefined;
  const windowActive =
    c.sliding_window != null && (architectureClass === 'MistralForCausalLM' || c.use_sliding_window === true);
  if (windowActive && c.sliding_window! < maxSeqLen) {
    slidingWindow = c.sliding_window!;
    maxSeqLen = slidingWindow;
  }
  const config: ModelConfig = {
    architecture: known!.architecture,
    dim: c.hidden_size,
    hiddenDim: c.intermediate_size,
    nLayers: c.num_hidden_layers,
    nHeads,
    nKvHeads,
    headDim,
    vocabSize: c.vocab_size,
    maxSeqLen,
    ropeTheta: c.rope_theta,
    normEps: c.rms_norm_eps,
    tiedEmbeddings: c.tie_word_embeddings,
  };
  return slidingWindow === undefined ? { config, architectureClass } : { config, architectureClass, slidingWindow };
}

/**
 * The config.json for `config` (the inverse of parseHuggingFaceConfig). A model with q/k/v
 * biases is written as Qwen2ForCausalLM, the architecture that has them.
 */
export function toHuggingFaceConfig(
  config: ModelConfig,
  options: { dtype: WeightDtype; qkvBias: boolean; bosTokenId?: number | undefined; eosTokenId?: number | readonly number[] | undefined },
): Record<string, unknown> {
  const architectureClass = options.qkvBias || config.architecture === 'qwen2'
    ? 'Qwen2ForCausalLM'
    : config.architecture === 'mistral'
      ? 'MistralForCausalLM'
      : 'LlamaForCausalLM';
  const json: Record<string, unknown> = {
    architectures: [architectureClass],
    model_type: ARCHITECTURES[architectureClass]!.modelType,
    hidden_size: config.dim,
    intermediate_size: config.hiddenDim,
    num_hidden_layers: config.nLayers,
    num_attention_heads: config.nHeads,
    num_key_value_heads: config.nKvHeads,
    head_dim: config.headDim,
    vocab_size: config.vocabSize,
    max_position_embeddings: config.maxSeqLen,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    rms_norm_eps: config.normEps,
    tie_word_embeddings: config.tiedEmbeddings,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: options.dtype === 'f32' ? 'float32' : options.dtype === 'f16' ? 'float16' : 'bfloat16',
  };
  if (architectureClass === 'MistralForCausalLM') json['sliding_window'] = null;
  if (architectureClass === 'Qwen2ForCausalLM') json['use_sliding_window'] = false;
  if (options.bosTokenId !== undefined) json['bos_token_id'] = options.bosTokenId;
  if (options.eosTokenId !== undefined) json['eos_token_id'] = options.eosTokenId;
  return json;
}
