/**
 * The one in-memory description of a Llama-family model. Every loader (llama2.c `.bin`,
 * Hugging Face folders, the synthetic generator) produces this; the plaintext forward pass
 * and the private protocol both consume it.
 *
 * Conventions (fixed here, relied on everywhere):
 * - Weights are row-major float32, shaped like PyTorch / llama2.c: W[out, in]; y = x · Wᵀ.
 * - RoPE rotates interleaved pairs (2i, 2i+1) of each head with frequency θ^(−2i/headDim).
 *   Loaders of half-split checkpoints (Hugging Face) permute the rows of wq/wk (and bq/bk) into
 *   this layout at load time, so there is exactly one RoPE implementation.
 * - RMSNorm weights γ are kept separate here; the private protocol folds them into the next
 *   linear layer itself (see protocol.md), the plaintext pass applies them directly.
 */
import type { RopeScaling } from './rope-scaling.js';
import type { Tokenizer } from './tokenizer.js';

export type Architecture =
  | 'llama' | 'qwen2' | 'mistral' | 'qwen3' | 'phi3' | 'gemma2' | 'gemma3' | 'mixtral' | 'qwen3-moe' | 'gpt-oss'
  | (string & {});

/**
 * Everything a model does beyond the Llama math. Absent (or every field absent) means a Llama
 * layer exactly. Each field is a step the plaintext oracle evaluates (plaintext/ops/); the
 * private protocol refuses a model with any of them until it has the private step
 * (protocol/model/private-steps.ts).
 */
export interface ModelVariant {
  /** Qwen3, Gemma 3: RMSNorm over each head of q and of k (γ: LayerWeights.qNorm / kNorm) before RoPE. */
  qkNorm?: boolean;
  /**
   * The FFN gate activation: silu(g)⊙u (default), Gemma's tanh-approximated GELU gelu(g)⊙u, or
   * gpt-oss's clamped form: g ← min(g, L), u ← clamp(u, −L, L), (u + 1) ⊙ g·σ(1.702·g) with L = swigluLimit.
   */
  activation?: 'silu' | 'gelu-tanh' | 'clamped-swiglu';
  /** gpt-oss: L of the clamped SwiGLU (swiglu_limit). */
  swigluLimit?: number;
  /** gpt-oss: a learned logit per head (LayerWeights.sinks) joins every softmax over the keys and takes its share of the mass. */
  attentionSinks?: boolean;
  /** gpt-oss: o_proj has a bias (LayerWeights.bo). */
  outputBias?: boolean;
  /** Gemma 2/3: RMSNorm of the attention and FFN outputs before each residual add (postAttnNorm, postFfnNorm). */
  postNorms?: boolean;
  /** Gemma: embedding rows are multiplied by this (√dim rounded to the checkpoint dtype) on input; the tied LM head is not. */
  embeddingScale?: number;
  /** Scale of q·k (default 1/√headDim; Gemma: query_pre_attn_scalar^(−1/2)). */
  attentionScale?: number;
  /** Gemma 2: scaled scores s → cap·tanh(s/cap) before the causal mask and softmax. */
  attentionSoftcap?: number;
  /** Gemma 2: logits z → cap·tanh(z/cap). */
  finalSoftcap?: number;
  /**
   * Per layer, the sliding window w (a query at p attends to keys p−w+1..p) or null for full
   * causal attention. Only set when layers differ (Gemma 2/3); a window on every layer is
   * expressed exactly by limiting maxSeqLen to it.
   */
  layerWindows?: readonly (number | null)[];
  /** Gemma 3: the RoPE of the windowed layers (θ and scaling); the others use ropeTheta / ropeScaling. */
  localRope?: { theta: number; scaling?: RopeScaling };
  /**
   * Mixture of experts in every layer's FFN (Mixtral, Qwen3-MoE): router logits r = n(h)·Routerᵀ,
   * p = softmax(r), the topK largest p_e (renormalised to sum 1 when normalizeTopK), and
   * FFN(h) = Σ_e p_e · W2_e·act(W1_e·n(h)) ⊙ W3_e·n(h). hiddenDim is each expert's width.
   */
  moe?: {
    nExperts: number;
    topK: number;
    normalizeTopK: boolean;
    /** gpt-oss: the router and every expert projection have biases (routerBias, b1, b3, b2). */
    biases?: boolean;
  } | undefined;
}

export interface ModelConfig {
  /** Architecture name as declared by the source (informational; the math is Llama's). */
  architecture: Architecture;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** dim / nHeads unless the source says otherwise. */
  headDim: number;
  vocabSize: number;
  /** Maximum context length (positions). */
  maxSeqLen: number;
  ropeTheta: number;
  /** RoPE scaling (absent: plain θ^(−2i/headDim)); see rope-scaling.ts. Public, like θ. */
  ropeScaling?: RopeScaling | undefined;
  /** Partial rotary embedding (partial_rotary_factor < 1): the first rotaryDim coordinates of each head rotate; absent: headDim. */
  rotaryDim?: number | undefined;
  normEps: number;
  /** True when the LM head is the embedding table (the same Float32Array is referenced). */
  tiedEmbeddings: boolean;
  /** Steps beyond the Llama math (absent: none). */
  variant?: ModelVariant | undefined;
}

export interface LayerWeights {
  attnNorm: Float32Array; // [dim]
  wq: Float32Array; // [nHeads*headDim, dim]
  wk: Float32Array; // [nKvHeads*headDim, dim]
  wv: Float32Array; // [nKvHeads*headDim, dim]
  wo: Float32Array; // [dim, nHeads*headDim]
  bq?: Float32Array; // [nHeads*headDim]
  bk?: Float32Array; // [nKvHeads*headDim]
  bv?: Float32Array; // [nKvHeads*headDim]
  ffnNorm: Float32Array; // [dim]
  w1: Float32Array; // gate [hiddenDim, dim]
  w2: Float32Array; // down [dim, hiddenDim]
  w3: Float32Array; // up [hiddenDim, dim]
  /** ModelVariant.qkNorm: per-head RMSNorm weights, [headDim], in our interleaved RoPE order. */
  qNorm?: Float32Array;
  kNorm?: Float32Array;
  /** ModelVariant.postNorms: RMSNorm weights of the attention and FFN outputs, [dim]. */
  postAttnNorm?: Float32Array;
  postFfnNorm?: Float32Array;
  /**
   * ModelVariant.moe: the router [nExperts, dim]; w1 and w3 then hold every expert's gate and up
   * stacked by rows ([nExperts·hiddenDim, dim], expert e at rows e·hiddenDim..), and w2 every
   * expert's down projection stacked by rows ([nExperts·dim, hiddenDim]).
   */
  router?: Float32Array;
  /** gpt-oss: router bias [nExperts]; expert biases stacked like their weights: b1, b3 [nExperts·hiddenDim], b2 [nExperts·dim]. */
  routerBias?: Float32Array;
  b1?: Float32Array;
  b3?: Float32Array;
  b2?: Float32Array;
  /** ModelVariant.outputBias: o_proj bias [dim]. */
  bo?: Float32Array;
  /** ModelVariant.attentionSinks: one logit per query head [nHeads]. */
  sinks?: Float32Array;
}

export interface ModelWeights {
  embedding: Float32Array; // [vocabSize, dim]
  layers: LayerWeights[];
  finalNorm: Float32Array; // [dim]
  lmHead: Float32Array; // [vocabSize, dim]; === embedding when tied
}

export interface ModelDescription {
  /** Short id shown to users (e.g. "stories260K"). */
  id: string;
  /** Where it was loaded from and in which format. */
  source: { path: string; format: 'llama2c' | 'huggingface'; dtype: 'f32' | 'f16' | 'bf16' };
  config: ModelConfig;
  weights: ModelWeights;
  tokenizer: Tokenizer;
  /** Jinja chat template from tokenizer_config.json, when the model has one. */
  chatTemplate?: string;
}
