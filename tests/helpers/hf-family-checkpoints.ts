/**
 * Scaled-down Hugging Face checkpoints of the families people run, for the loader and oracle
 * tests: each family's config.json with its real field names (and its real values wherever a
 * small model allows them; sizes, and where stated windows and RoPE lengths, scaled down), and
 * seeded random tensors under the names and shapes transformers' modeling code uses.
 *
 * The tensor names come from model/synthetic/family-tensor-names.ts, written from the modeling
 * files separately from the loader, so a loader that reads a wrong name or shape fails here.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Prg } from '../../crypto/prg.js';
import { writeSafetensors } from '../../model/huggingface/safetensors-writer.js';
import { familyTensorShapes } from '../../model/synthetic/family-tensor-names.js';
import { roundToDtype } from '../../model/synthetic/synthetic-weights.js';

export type HfConfig = Record<string, unknown>;

export interface HfCheckpoint {
  config: HfConfig;
  /** HF name → [shape, float32 values exactly as written] (for MXFP4 tensors: the values the packed form holds). */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  /** gpt-oss MXFP4: float tensor name → the U8 `_blocks` / `_scales` tensors written instead of it. */
  packed?: Map<string, Array<{ name: string; shape: number[]; bytes: Uint8Array }>>;
}

/** The vocabulary of the tests' tokenizer (stories260K's tok512), so text can be decoded. */
export const TEST_VOCAB = 512;

const common = { bos_token_id: 1, eos_token_id: 2, vocab_size: TEST_VOCAB, initializer_range: 0.02, use_cache: true, attention_dropout: 0.0 };

/** Llama 3.2 1B's config.json, scaled down (its rope_scaling block verbatim). */
export const LLAMA32_CONFIG: HfConfig = {
  ...common,
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  attention_bias: false,
  head_dim: 16,
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 160,
  max_position_embeddings: 131072,
  mlp_bias: false,
  num_attention_heads: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
};

/** A Llama config with the given rope_scaling and a short context (so scaling shows within a test's positions). */
export function llamaWithRope(ropeScaling: HfConfig | null, maxPositions = 64): HfConfig {
  return { ...LLAMA32_CONFIG, torch_dtype: 'float32', rope_theta: 10000.0, max_position_embeddings: maxPositions, rope_scaling: ropeScaling, tie_word_embeddings: false };
}

/** Qwen3-0.6B's config.json, scaled down: head_dim 32 with 4 heads over hidden 64 (q width 128 ≠ hidden, as in Qwen3). */
export const QWEN3_CONFIG: HfConfig = {
  ...common,
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  attention_bias: false,
  head_dim: 32,
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 192,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  num_attention_heads: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
};

/** Phi-3-mini-4k-instruct's config.json, scaled down (MHA, fused projections, window 2047). */
export const PHI3_CONFIG: HfConfig = {
  ...common,
  architectures: ['Phi3ForCausalLM'],
  model_type: 'phi3',
  attention_bias: false,
  embd_pdrop: 0.0,
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 128,
  max_position_embeddings: 4096,
  num_attention_heads: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 4,
  original_max_position_embeddings: 4096,
  pad_token_id: 0,
  resid_pdrop: 0.0,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  sliding_window: 2047,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
};

/**
 * Phi-3.5-mini-instruct's config.json (longrope), scaled down: 4096 → 16 original positions and
 * 131072 → 64, so the switch from short to long factors happens inside a test; factors invented
 * (the real ones are 48 numbers per list).
 */
export const PHI35_CONFIG: HfConfig = {
  ...PHI3_CONFIG,
  max_position_embeddings: 64,
  original_max_position_embeddings: 16,
  rope_scaling: {
    type: 'longrope',
    short_factor: [1.0, 1.02, 1.05, 1.1, 1.2, 1.4, 1.7, 2.0],
    long_factor: [1.0, 1.3, 2.0, 3.5, 6.0, 10.0, 18.0, 30.0],
  },
  sliding_window: 262144,
  torch_dtype: 'float32',
};

/** Phi-4-mini-instruct's layout (Phi3ForCausalLM, partial_rotary_factor 0.75, GQA, tied), scaled down; head 16 → 12 rotating. */
export const PHI4_MINI_CONFIG: HfConfig = {
  ...PHI3_CONFIG,
  num_key_value_heads: 2,
  partial_rotary_factor: 0.75,
  max_position_embeddings: 64,
  original_max_position_embeddings: 16,
  rope_scaling: {
    type: 'longrope',
    short_factor: [1.0, 1.1, 1.2, 1.5, 2.0, 3.0],
    long_factor: [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
  },
  rope_theta: 10000.0,
  sliding_window: 262144,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
};

/** Gemma-2-2b's config.json, scaled down; sliding_window scaled from 4096 to 8 so the tests' sequences cross it. */
export const GEMMA2_CONFIG: HfConfig = {
  ...common,
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  attention_bias: false,
  attn_logit_softcapping: 50.0,
  cache_implementation: 'hybrid',
  final_logit_softcapping: 30.0,
  head_dim: 32,
  hidden_act: 'gelu_pytorch_tanh',
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 64,
  intermediate_size: 256,
  max_position_embeddings: 8192,
  num_attention_heads: 4,
  num_hidden_layers: 4,
  num_key_value_heads: 2,
  pad_token_id: 0,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  sliding_window: 8,
  torch_dtype: 'float32',
};

/** Gemma-3-1b-it's config.json (Gemma3ForCausalLM, model_type gemma3_text), scaled down; window 512 → 8. */
export const GEMMA3_CONFIG: HfConfig = {
  ...common,
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  attention_bias: false,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
  head_dim: 32,
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 64,
  intermediate_size: 256,
  max_position_embeddings: 32768,
  num_attention_heads: 4,
  num_hidden_layers: 6,
  num_key_value_heads: 1,
  pad_token_id: 0,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_local_base_freq: 10000,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: 8,
  sliding_window_pattern: 6,
  torch_dtype: 'bfloat16',
};

/** Mixtral-8x7B's config.json, scaled down (8 experts, 2 per token: the real counts). */
export const MIXTRAL_CONFIG: HfConfig = {
  ...common,
  architectures: ['MixtralForCausalLM'],
  model_type: 'mixtral',
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 96,
  max_position_embeddings: 32768,
  num_attention_heads: 4,
  num_experts_per_tok: 2,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  num_local_experts: 8,
  output_router_logits: false,
  rms_norm_eps: 1e-5,
  rope_theta: 1000000.0,
  router_aux_loss_coef: 0.02,
  sliding_window: null,
  tie_word_embeddings: false,
  torch_dtype: 'float32',
};

/** Qwen3-30B-A3B's config.json, scaled down (128 experts / 8 per token → 16 / 4; q/k norm, explicit head_dim). */
export const QWEN3_MOE_CONFIG: HfConfig = {
  ...common,
  architectures: ['Qwen3MoeForCausalLM'],
  model_type: 'qwen3_moe',
  attention_bias: false,
  decoder_sparse_step: 1,
  head_dim: 32,
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 192,
  max_position_embeddings: 40960,
  max_window_layers: 48,
  mlp_only_layers: [],
  moe_intermediate_size: 48,
  norm_topk_prob: true,
  num_attention_heads: 4,
  num_experts: 16,
  num_experts_per_tok: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  output_router_logits: false,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000.0,
  router_aux_loss_coef: 0.001,
  sliding_window: null,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
};

/**
 * gpt-oss-20b's config.json, scaled down (32 experts / 4 per token → 8 / 2; window 128 → 8; its
 * yarn block verbatim but original_max_position_embeddings 4096 → 16 so YaRN acts within a test).
 */
export const GPT_OSS_CONFIG: HfConfig = {
  ...common,
  architectures: ['GptOssForCausalLM'],
  model_type: 'gpt_oss',
  attention_bias: true,
  experts_per_token: 2,
  head_dim: 16,
  hidden_act: 'silu',
  hidden_size: 64,
  initial_context_length: 16,
  intermediate_size: 64,
  layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'],
  max_position_embeddings: 512,
  num_attention_heads: 4,
  num_experts_per_tok: 2,
  num_hidden_layers: 4,
  num_key_value_heads: 2,
  num_local_experts: 8,
  output_router_logits: false,
  rms_norm_eps: 1e-5,
  rope_scaling: { beta_fast: 32.0, beta_slow: 1.0, factor: 32.0, original_max_position_embeddings: 16, rope_type: 'yarn', truncate: false },
  rope_theta: 150000,
  router_aux_loss_coef: 0.9,
  sliding_window: 8,
  swiglu_limit: 7.0,
  tie_word_embeddings: false,
  torch_dtype: 'float32',
};

const num = (c: HfConfig, key: string): number => c[key] as number;

/** Every tensor name and shape (model/synthetic/family-tensor-names.ts: written from the HF modeling files, not by the loader). */
export const hfTensorShapes = familyTensorShapes;

const DTYPES: Record<string, 'f32' | 'f16' | 'bf16'> = { float32: 'f32', float16: 'f16', bfloat16: 'bf16' };

/**
 * Seeded tensors for `config`: linear weights uniform with std 1/√in (O(1) activations), the
 * embedding with std 1/√dim (Gemma: 1, since it multiplies by √dim), norm multipliers 1 ± 0.2
 * (Gemma stores w with multiplier 1 + w, so w = ±0.2), biases ±0.1; rounded to torch_dtype.
 */
export function buildCheckpoint(config: HfConfig, seed: string): HfCheckpoint {
  const prg = Prg.fromSeed('hf-family-checkpoints', seed);
  const gemma = ((config['architectures'] as string[])[0] ?? '').startsWith('Gemma');
  const dtype = DTYPES[(config['torch_dtype'] as string | undefined) ?? 'float32'] ?? 'f32';
  const d = num(config, 'hidden_size');
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of hfTensorShapes(config)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    const uniform = (std: number) => Float32Array.from(prg.uniformArray(n, std * Math.sqrt(3)));
    if (t.kind === 'linear') data = uniform(1 / Math.sqrt(t.shape[1]!));
    else if (t.kind === 'embedding') data = uniform(gemma ? 1 : 1 / Math.sqrt(d));
    else if (t.kind === 'bias') data = uniform(0.1 / Math.sqrt(3));
    else {
      data = Float32Array.from(prg.uniformArray(n, 0.2));
      if (!gemma) for (let i = 0; i < n; i++) data[i] = 1 + data[i]!;
    }
    tensors.set(t.name, { shape: t.shape, data: roundToDtype(data, dtype) });
  }
  return { config, tensors };
}

/** Writes config.json and model.safetensors (in torch_dtype; packed tensors as U8) into `dir`. */
export async function writeCheckpoint(dir: string, ck: HfCheckpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(ck.config, null, 2)}\n`);
  const dtype = DTYPES[(ck.config['torch_dtype'] as string | undefined) ?? 'float32'] ?? 'f32';
  if (!ck.packed) {
    await writeSafetensors(path.join(dir, 'model.safetensors'), [...ck.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), dtype);
    return dir;
  }
  if (dtype !== 'f32') throw new RangeError('writeCheckpoint: packed checkpoints are written with float32 for the other tensors');
  // Mixed dtypes: written by hand (8-byte LE header length, JSON header, data).
  const entries: Array<{ name: string; dtype: 'F32' | 'U8'; shape: number[]; bytes: Uint8Array }> = [];
  for (const [name, t] of ck.tensors) {
    const parts = ck.packed.get(name);
    if (parts) for (const part of parts) entries.push({ ...part, dtype: 'U8' });
    else entries.push({ name, dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  }
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path.join(dir, 'model.safetensors'), Buffer.concat([length, Buffer.from(json), ...entries.map((e) => Buffer.from(e.bytes))]));
  return dir;
}

/** OCP MXFP4 E2M1 code values, written out for the tests. */
const E2M1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

/**
 * Replaces gpt-oss's expert stacks by random MXFP4 codes and scales (2^−6..2^−4), as the released
 * checkpoints store them: `_blocks` [E, out, in/32, 16] and `_scales` [E, out, in/32], in the
 * Linear order [out, in]; the float tensors [E, in, out] hold the exact values they encode.
 */
export function packExpertsAsMxfp4(ck: HfCheckpoint, seed: string): HfCheckpoint {
  const prg = Prg.fromSeed('hf-family-checkpoints-mxfp4', seed);
  const packed = new Map<string, Array<{ name: string; shape: number[]; bytes: Uint8Array }>>();
  for (const [name, t] of ck.tensors) {
    if (!/mlp\.experts\.(gate_up|down)_proj$/.test(name)) continue;
    const [E, inDim, outDim] = t.shape as [number, number, number];
    const groups = inDim / 32;
    const blocks = new Uint8Array(prg.bytes(E * outDim * groups * 16));
    const scales = new Uint8Array(E * outDim * groups).map(() => 121 + prg.below(3));
    const values = new Float32Array(E * inDim * outDim);
    for (let e = 0; e < E; e++) {
      for (let o = 0; o < outDim; o++) {
        for (let g = 0; g < groups; g++) {
          const scale = 2 ** (scales[(e * outDim + o) * groups + g]! - 127);
          for (let b = 0; b < 16; b++) {
            const byte = blocks[((e * outDim + o) * groups + g) * 16 + b]!;
            for (const [k, code] of [[0, byte & 15], [1, byte >> 4]] as const) {
              const i = g * 32 + 2 * b + k;
              values[(e * inDim + i) * outDim + o] = E2M1[code]! * scale;
            }
          }
        }
      }
    }
    ck.tensors.set(name, { shape: t.shape, data: values });
    packed.set(name, [
      { name: `${name}_blocks`, shape: [E, outDim, groups, 16], bytes: blocks },
      { name: `${name}_scales`, shape: [E, outDim, groups], bytes: scales },
    ]);
  }
  ck.packed = packed;
  return ck;
}
