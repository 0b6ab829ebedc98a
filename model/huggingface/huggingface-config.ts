/**
 * `config.json` of a Hugging Face checkpoint ↔ our `ModelConfig` (+ how its tensors are laid out).
 *
 * Accepted architectures (model-description.ts has the math of every variant):
 * - LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM (q/k/v biases): the Llama math;
 * - Phi3ForCausalLM: the Llama math with q|k|v and gate|up fused in one tensor each (split at load);
 * - Qwen3ForCausalLM: per-head q/k RMSNorm before RoPE, explicit head_dim;
 * - Gemma2ForCausalLM, Gemma3ForCausalLM: norms as 1 + w (folded at load), √dim embedding scale,
 *   tanh-GELU gate, post-norms, query_pre_attn_scalar, attention / final logit soft-capping,
 *   alternating sliding-window layers (Gemma 3 also q/k norm and a local RoPE base);
 * - MixtralForCausalLM, Qwen3MoeForCausalLM: a mixture of experts in every layer's FFN;
 * - GptOssForCausalLM: experts with biases and a clamped SwiGLU (MXFP4 experts dequantized at
 *   load), attention sinks, q/k/v/o biases, alternating sliding windows, YaRN.
 * RoPE scaling: linear, dynamic, llama3, yarn, longrope (rope-scaling.ts), over the whole head or
 * its first partial_rotary_factor part. Everything else (other architectures or scalings,
 * non-SiLU activations, MLP biases) is
 * rejected with one ModelLoadError listing every problem found, rather than loading a model whose
 * outputs would silently differ from the original.
 *
 * A sliding window on every layer (Mistral v0.1, Phi-3, Qwen2/3 with `use_sliding_window`) equals
 * full causal attention for every sequence no longer than the window, so such a model is accepted
 * with its context limited to the window: exact, never approximate. Alternating windows (Gemma)
 * are kept per layer (ModelVariant.layerWindows).
 */
import { z } from 'zod';
import type { Architecture, ModelConfig, ModelVariant } from '../model-description.js';
import { ModelLoadError } from '../model-errors.js';
import { yarnMscale, type RopeScaling } from '../rope-scaling.js';
import type { WeightDtype } from './safetensors-dtype.js';

/** How an architecture stores its tensors (huggingface-tensor-names.ts reads by it). */
export interface CheckpointLayout {
  /** Phi-3: self_attn.qkv_proj (q rows, then k, then v) and mlp.gate_up_proj (gate rows, then up). */
  fusedProjections: boolean;
  /** Gemma: RMSNorm multiplies by 1 + w; the loader stores 1 + w. */
  normPlusOne: boolean;
  /** Gemma 2/3 names: input_layernorm, post_attention_layernorm (of the attention OUTPUT), pre_feedforward_layernorm, post_feedforward_layernorm. */
  sandwichNorms: boolean;
  /** self_attn.q_norm / k_norm ([head_dim]). */
  qkNorm: boolean;
  /** q/k/v biases allowed (Qwen2). */
  qkvBias: boolean;
  /**
   * Expert tensor names: Mixtral's block_sparse_moe.{gate, experts.E.w1/w2/w3}, Qwen3-MoE's
   * mlp.{gate, experts.E.gate_proj/up_proj/down_proj}, or gpt-oss's mlp.router and packed
   * mlp.experts.{gate_up_proj, down_proj}[_bias | _blocks + _scales].
   */
  moe?: 'mixtral' | 'qwen3-moe' | 'gpt-oss';
  /** gpt-oss: self_attn.o_proj.bias and self_attn.sinks. */
  outputBiasAndSinks?: boolean;
}

interface ArchitectureInfo {
  architecture: Architecture;
  modelType: string;
  layout: CheckpointLayout;
}

const LLAMA_LAYOUT: CheckpointLayout = { fusedProjections: false, normPlusOne: false, sandwichNorms: false, qkNorm: false, qkvBias: false };

const ARCHITECTURES: Readonly<Record<string, ArchitectureInfo>> = {
  LlamaForCausalLM: { architecture: 'llama', modelType: 'llama', layout: LLAMA_LAYOUT },
  Qwen2ForCausalLM: { architecture: 'qwen2', modelType: 'qwen2', layout: { ...LLAMA_LAYOUT, qkvBias: true } },
  MistralForCausalLM: { architecture: 'mistral', modelType: 'mistral', layout: LLAMA_LAYOUT },
  Qwen3ForCausalLM: { architecture: 'qwen3', modelType: 'qwen3', layout: { ...LLAMA_LAYOUT, qkNorm: true } },
  Phi3ForCausalLM: { architecture: 'phi3', modelType: 'phi3', layout: { ...LLAMA_LAYOUT, fusedProjections: true } },
  Gemma2ForCausalLM: { architecture: 'gemma2', modelType: 'gemma2', layout: { ...LLAMA_LAYOUT, normPlusOne: true, sandwichNorms: true } },
  Gemma3ForCausalLM: { architecture: 'gemma3', modelType: 'gemma3_text', layout: { ...LLAMA_LAYOUT, normPlusOne: true, sandwichNorms: true, qkNorm: true } },
  MixtralForCausalLM: { architecture: 'mixtral', modelType: 'mixtral', layout: { ...LLAMA_LAYOUT, moe: 'mixtral' } },
  Qwen3MoeForCausalLM: { architecture: 'qwen3-moe', modelType: 'qwen3_moe', layout: { ...LLAMA_LAYOUT, qkNorm: true, moe: 'qwen3-moe' } },
  GptOssForCausalLM: { architecture: 'gpt-oss', modelType: 'gpt_oss', layout: { ...LLAMA_LAYOUT, qkvBias: true, moe: 'gpt-oss', outputBiasAndSinks: true } },
};

const positiveInt = z.number().int().positive();
const positive = z.number().positive();

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
    rope_theta: positive.default(10000),
    // transformers' LlamaConfig default.
    rms_norm_eps: positive.default(1e-6),
    tie_word_embeddings: z.boolean().optional(),
    hidden_act: z.string().optional(),
    // Gemma's name for it (transformers prefers it over hidden_act for Gemma).
    hidden_activation: z.string().nullish(),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    rope_scaling: z.object({ type: z.string().optional(), rope_type: z.string().optional() }).passthrough().nullish(),
    partial_rotary_factor: positive.optional(),
    // Phi-3: the pretrained length longrope scales from.
    original_max_position_embeddings: positiveInt.nullish(),
    sliding_window: positiveInt.nullish(),
    use_sliding_window: z.boolean().optional(),
    // Gemma 2/3
    query_pre_attn_scalar: positive.nullish(),
    attn_logit_softcapping: positive.nullish(),
    final_logit_softcapping: positive.nullish(),
    sliding_window_pattern: positiveInt.nullish(),
    layer_types: z.array(z.string()).nullish(),
    rope_local_base_freq: positive.nullish(),
    // mixture of experts
    num_local_experts: positiveInt.nullish(),
    num_experts: positiveInt.nullish(),
    num_experts_per_tok: positiveInt.nullish(),
    norm_topk_prob: z.boolean().nullish(),
    moe_intermediate_size: positiveInt.nullish(),
    decoder_sparse_step: positiveInt.nullish(),
    mlp_only_layers: z.array(z.number().int()).nullish(),
    swiglu_limit: positive.nullish(),
    torch_dtype: z.string().nullish(),
  })
  .passthrough();

export type HuggingFaceConfigJson = z.input<typeof configSchema>;

export interface ParsedHuggingFaceConfig {
  config: ModelConfig;
  /** The HF architecture class name, e.g. "LlamaForCausalLM". */
  architectureClass: string;
  layout: CheckpointLayout;
  /** Set when a sliding window on every layer limited `config.maxSeqLen` below max_position_embeddings. */
  slidingWindow?: number;
  /** The storage dtype config.json declares (torch_dtype), when it names one we read. */
  declaredDtype?: WeightDtype;
}

const rangeOf = (z: Record<string, unknown>, key: string): unknown => z[key];

/** `rope_scaling` → our RopeScaling; problems are pushed, undefined returned for plain RoPE. */
function parseRopeScaling(raw: Record<string, unknown> | null | undefined, maxPositions: number, problems: string[], rotaryDim: number, topLevelOriginal?: number | null): RopeScaling | undefined {
  if (!raw) return undefined;
  const kind = (raw['rope_type'] ?? raw['type'] ?? '(unnamed)') as string;
  const num = (key: string, fallback?: number): number => {
    const v = rangeOf(raw, key) ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) {
      problems.push(`rope_scaling.${key} must be a positive number for type "${kind}" (got ${JSON.stringify(v)})`);
      return 1;
    }
    return v;
  };
  switch (kind) {
    case 'default':
      return undefined;
    case 'linear':
      return { type: 'linear', factor: num('factor') };
    case 'dynamic':
      return { type: 'dynamic', factor: num('factor'), originalMaxPositions: Math.round(num('original_max_position_embeddings', maxPositions)) };
    case 'llama3':
      return {
        type: 'llama3',
        factor: num('factor'),
        lowFreqFactor: num('low_freq_factor'),
        highFreqFactor: num('high_freq_factor'),
        originalMaxPositions: Math.round(num('original_max_position_embeddings')),
      };
    case 'yarn': {
      const factor = num('factor');
      const mscale = raw['mscale'];
      const mscaleAllDim = raw['mscale_all_dim'];
      let attentionFactor: number;
      if (raw['attention_factor'] != null) attentionFactor = num('attention_factor');
      else if (typeof mscale === 'number' && typeof mscaleAllDim === 'number' && mscale > 0 && mscaleAllDim > 0) {
        attentionFactor = yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
      } else attentionFactor = yarnMscale(factor);
      const truncate = raw['truncate'] ?? true;
      if (typeof truncate !== 'boolean') problems.push(`rope_scaling.truncate must be a boolean (got ${JSON.stringify(truncate)})`);
      return {
        type: 'yarn',
        factor,
        originalMaxPositions: Math.round(num('original_max_position_embeddings', maxPositions)),
        betaFast: raw['beta_fast'] == null ? 32 : num('beta_fast'),
        betaSlow: raw['beta_slow'] == null ? 1 : num('beta_slow'),
        attentionFactor,
        truncate: truncate !== false,
      };
    }
    case 'longrope':
    case 'su': {
      const list = (key: string): number[] => {
        const v = raw[key];
        if (!Array.isArray(v) || v.length !== rotaryDim / 2 || !v.every((x) => typeof x === 'number' && x > 0)) {
          problems.push(`rope_scaling.${key} must list ${rotaryDim / 2} positive numbers (one per rotary pair)`);
          return Array.from({ length: rotaryDim / 2 }, () => 1);
        }
        return v as number[];
      };
      // As transformers: a top-level original_max_position_embeddings (Phi-3) fixes both L0 and the factor.
      const original = topLevelOriginal ?? (typeof raw['original_max_position_embeddings'] === 'number' ? raw['original_max_position_embeddings'] : maxPositions);
      const scale = topLevelOriginal != null ? maxPositions / topLevelOriginal : raw['factor'] == null ? 1 : num('factor');
      const attentionFactor = raw['attention_factor'] != null ? num('attention_factor') : scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(original));
      return { type: 'longrope', shortFactor: list('short_factor'), longFactor: list('long_factor'), originalMaxPositions: original, attentionFactor };
    }
    default:
      problems.push(`rope_scaling type "${kind}" is not implemented (implemented: default, linear, dynamic, llama3, yarn, longrope)`);
      return undefined;
  }
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
  const layout = known?.layout ?? LLAMA_LAYOUT;
  const gemma = layout.normPlusOne;
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
  const activationName = gemma ? (c.hidden_activation ?? c.hidden_act ?? 'gelu_pytorch_tanh') : (c.hidden_act ?? 'silu');
  const activation = activationName === 'silu' || activationName === 'swish' ? 'silu' : activationName === 'gelu_pytorch_tanh' ? 'gelu-tanh' : undefined;
  if (activation === undefined || (activation === 'gelu-tanh') !== gemma) {
    // gpt-oss says silu and means its clamped SwiGLU (swiglu_limit), set below.
    problems.push(`${gemma ? 'hidden_activation' : 'hidden_act'} ${activationName} is not supported (${gemma ? 'only gelu_pytorch_tanh' : 'only silu'})`);
  }
  if (c.mlp_bias) problems.push('mlp_bias: true is not supported (MLP projections without bias only)');
  if (layout.outputBiasAndSinks && !c.attention_bias) problems.push(`attention_bias: false is not supported for ${architectureClass} (its checkpoints carry q/k/v/o biases)`);
  if (c.attention_bias && !layout.qkvBias) {
    problems.push(`attention_bias: true is not supported for ${architectureClass} (it adds biases this architecture's loader does not read)`);
  }
  // transformers: the rotating width is int(head_dim · partial_rotary_factor).
  const rotaryDim = Math.floor(headDim * (c.partial_rotary_factor ?? 1));
  if (rotaryDim !== headDim && architectureClass !== 'Phi3ForCausalLM') {
    problems.push(`partial_rotary_factor ${c.partial_rotary_factor} is not supported for ${architectureClass} (its attention rotates the whole head; Phi3ForCausalLM splits it)`);
  } else if (rotaryDim % 2 !== 0 || rotaryDim < 2 || rotaryDim > headDim) {
    problems.push(`partial_rotary_factor ${c.partial_rotary_factor} gives a rotary width of ${rotaryDim}: it must be even and within the head (${headDim})`);
  }
  const ropeScaling = parseRopeScaling(c.rope_scaling, c.max_position_embeddings, problems, rotaryDim, c.original_max_position_embeddings);

  const variant: ModelVariant = {};
  if (layout.qkNorm) variant.qkNorm = true;
  if (gemma) {
    variant.activation = 'gelu-tanh';
    variant.postNorms = true;
    // transformers multiplies by √hidden_size cast to the checkpoint's dtype.
    variant.embeddingScale = embeddingScaleIn(Math.sqrt(c.hidden_size), c.torch_dtype);
    variant.attentionScale = 1 / Math.sqrt(c.query_pre_attn_scalar ?? headDim);
    if (c.attn_logit_softcapping != null) variant.attentionSoftcap = c.attn_logit_softcapping;
    if (c.final_logit_softcapping != null) variant.finalSoftcap = c.final_logit_softcapping;
  } else {
    for (const key of ['query_pre_attn_scalar', 'attn_logit_softcapping', 'final_logit_softcapping'] as const) {
      if (c[key] != null) problems.push(`${key} is set but ${architectureClass} does not use it`);
    }
  }

  let maxSeqLen = c.max_position_embeddings;
  if (ropeScaling?.type === 'dynamic') {
    // Dynamic NTK exists to run past the trained length: allow factor × its original length.
    maxSeqLen = Math.max(maxSeqLen, Math.floor(ropeScaling.factor * ropeScaling.originalMaxPositions));
  }
  let slidingWindow: number | undefined;
  if (layout.outputBiasAndSinks) {
    variant.attentionSinks = true;
    variant.outputBias = true;
    variant.activation = 'clamped-swiglu';
    variant.swigluLimit = c.swiglu_limit ?? 7;
    const windows = gemmaLayerWindows(architectureClass, c, problems);
    if (windows) variant.layerWindows = windows;
  } else if (gemma) {
    const windows = gemmaLayerWindows(architectureClass, c, problems);
    if (windows) variant.layerWindows = windows;
    if (architectureClass === 'Gemma3ForCausalLM') {
      const local: { theta: number; scaling?: RopeScaling } = { theta: c.rope_local_base_freq ?? 10000 };
      variant.localRope = local;
    }
  } else {
    const windowActive =
      c.sliding_window != null &&
      (architectureClass === 'MistralForCausalLM' || architectureClass === 'Phi3ForCausalLM' || architectureClass === 'MixtralForCausalLM' || c.use_sliding_window === true);
    if (windowActive && c.sliding_window! < maxSeqLen) {
      slidingWindow = c.sliding_window!;
      maxSeqLen = slidingWindow;
    }
  }

  let hiddenDim = c.intermediate_size;
  if (layout.moe) {
    const nExperts = layout.moe === 'qwen3-moe' ? c.num_experts : c.num_local_experts;
    const topK = c.num_experts_per_tok;
    if (nExperts == null || topK == null) problems.push(`${layout.moe === 'qwen3-moe' ? 'num_experts' : 'num_local_experts'} and num_experts_per_tok are required for ${architectureClass}`);
    else if (topK > nExperts) problems.push(`num_experts_per_tok ${topK} exceeds the ${nExperts} experts`);
    if (layout.moe === 'qwen3-moe') {
      if (c.moe_intermediate_size == null) problems.push('moe_intermediate_size is required for Qwen3MoeForCausalLM');
      else hiddenDim = c.moe_intermediate_size;
      if ((c.decoder_sparse_step ?? 1) !== 1 || (c.mlp_only_layers ?? []).length > 0) {
        problems.push('dense layers among the experts (decoder_sparse_step ≠ 1 or mlp_only_layers) are not supported: every layer must be a mixture of experts');
      }
    }
    if (nExperts != null && topK != null) {
      // Mixtral renormalises the top-k softmax weights; gpt-oss takes the softmax of the top-k logits (the same numbers).
      variant.moe = { nExperts, topK, normalizeTopK: layout.moe === 'qwen3-moe' ? (c.norm_topk_prob ?? false) : true };
      if (layout.moe === 'gpt-oss') variant.moe.biases = true;
    }
  }
  if (problems.length > 0) throw new ModelLoadError(file, problems.join('; '));

  const config: ModelConfig = {
    architecture: known!.architecture,
    dim: c.hidden_size,
    hiddenDim,
    nLayers: c.num_hidden_layers,
    nHeads,
    nKvHeads,
    headDim,
    vocabSize: c.vocab_size,
    maxSeqLen,
    ropeTheta: c.rope_theta,
    normEps: c.rms_norm_eps,
    // Gemma's configs default to tied embeddings; the others to untied.
    tiedEmbeddings: c.tie_word_embeddings ?? gemma,
  };
  if (ropeScaling) config.ropeScaling = ropeScaling;
  if (rotaryDim !== headDim) config.rotaryDim = rotaryDim;
  if (Object.keys(variant).length > 0) config.variant = variant;
  const parsed: ParsedHuggingFaceConfig = { config, architectureClass, layout };
  const declared = c.torch_dtype === 'float32' ? 'f32' : c.torch_dtype === 'float16' ? 'f16' : c.torch_dtype === 'bfloat16' ? 'bf16' : undefined;
  if (declared) parsed.declaredDtype = declared;
  if (slidingWindow !== undefined) parsed.slidingWindow = slidingWindow;
  return parsed;
}

/** √dim rounded as transformers does (a tensor of the checkpoint's dtype). */
function embeddingScaleIn(value: number, torchDtype: string | null | undefined): number {
  const f32 = Math.fround(value);
  if (torchDtype === 'bfloat16') {
    const bits = new Uint32Array(new Float32Array([f32]).buffer)[0]!;
    const rounded = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000;
    return new Float32Array(new Uint32Array([rounded >>> 0]).buffer)[0]!;
  }
  if (torchDtype === 'float16') {
    // 11 significant bits; √dim of real sizes is far inside float16's range.
    const e = Math.floor(Math.log2(f32));
    const step = 2 ** (e - 10);
    return Math.round(f32 / step) * step;
  }
  return f32;
}

/** Per-layer windows (Gemma, gpt-oss): layer_types when given, else Gemma 2's / gpt-oss's even layers, Gemma 3's pattern. */
function gemmaLayerWindows(architectureClass: string, c: z.output<typeof configSchema>, problems: string[]): (number | null)[] | undefined {
  const n = c.num_hidden_layers;
  const window = c.sliding_window;
  let sliding: boolean[];
  if (c.layer_types) {
    if (c.layer_types.length !== n) problems.push(`layer_types has ${c.layer_types.length} entries for ${n} layers`);
    const bad = c.layer_types.filter((t) => t !== 'sliding_attention' && t !== 'full_attention');
    if (bad.length > 0) problems.push(`layer_types: unknown ${[...new Set(bad)].join(', ')} (known: sliding_attention, full_attention)`);
    sliding = c.layer_types.map((t) => t === 'sliding_attention');
  } else if (architectureClass === 'Gemma2ForCausalLM' || architectureClass === 'GptOssForCausalLM') {
    sliding = Array.from({ length: n }, (_, i) => i % 2 === 0);
  } else {
    const pattern = c.sliding_window_pattern ?? 6;
    sliding = Array.from({ length: n }, (_, i) => (i + 1) % pattern !== 0);
  }
  if (!sliding.some(Boolean)) return undefined;
  if (window == null) {
    problems.push('sliding_window is required when layers use sliding attention');
    return undefined;
  }
  return sliding.map((s) => (s ? window : null));
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
