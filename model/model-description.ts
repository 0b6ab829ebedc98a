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
import type { Tokenizer } from './tokenizer.js';

export type Architecture = 'llama' | 'qwen2' | 'mistral' | (string & {});

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
  normEps: number;
  /** True when the LM head is the embedding table (the same Float32Array is referenced). */
  tiedEmbeddings: boolean;
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
