/**
 * What a synthetic model looks like: any Llama-family shape, a real tokenizer, a storage
 * dtype. The weights are random (see synthetic-weights.ts); the private protocol's cost does
 * not depend on their values, so these stand in for real checkpoints at real sizes.
 */
import { z } from 'zod';
import { parseHuggingFaceConfig } from '../huggingface/huggingface-config.js';
import type { ModelConfig } from '../model-description.js';
import { familyConfigJson, SYNTHETIC_FAMILIES } from './family-configs.js';
import { familyTensorShapes } from './family-tensor-names.js';
import { SYNTHETIC_TOKENIZER_SIZES, type SyntheticTokenizerName } from './synthetic-tokenizer-files.js';

const positiveInt = z.number().int().positive();

export const syntheticSpecSchema = z
  .object({
    /** Informational architecture; 'qwen2' is implied by qkvBias. */
    architecture: z.enum(['llama', 'qwen2', 'mistral']).default('llama'),
    dim: positiveInt,
    hiddenDim: positiveInt,
    nLayers: positiveInt,
    nHeads: positiveInt,
    nKvHeads: positiveInt,
    /** Default dim / nHeads. */
    headDim: positiveInt.optional(),
    tokenizer: z.enum(['llama3', 'qwen3', 'llama3-32k', 'qwen3-32k']),
    /** Default: the tokenizer's size. May be larger (padding rows, as real Qwen models have). */
    vocabSize: positiveInt.optional(),
    tiedEmbeddings: z.boolean(),
    qkvBias: z.boolean().default(false),
    maxSeqLen: positiveInt.default(2048),
    ropeTheta: z.number().positive().default(500000),
    normEps: z.number().positive().default(1e-5),
    /** Storage dtype; generated weights are rounded to it so memory and disk agree exactly. */
    dtype: z.enum(['f32', 'f16', 'bf16']).default('bf16'),
    /**
     * A family beyond the plain Llama layout (family-configs.ts): the folder gets that family's
     * real config.json fields and tensor names; architecture, qkvBias, ropeTheta and normEps then
     * come from the family.
     */
    family: z.enum(SYNTHETIC_FAMILIES).optional(),
    /** Mixture of experts (mixtral, qwen3-moe): experts per layer and per token; hiddenDim is each expert's. */
    nExperts: positiveInt.optional(),
    expertsPerToken: positiveInt.optional(),
    /** Gemma: the local layers' sliding window (default the family's: 4096, 512). */
    slidingWindow: positiveInt.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const headDim = s.headDim ?? s.dim / s.nHeads;
    if (!Number.isInteger(headDim)) ctx.addIssue({ code: 'custom', path: ['nHeads'], message: `dim ${s.dim} is not divisible by nHeads ${s.nHeads}; give headDim` });
    else if (headDim % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['headDim'], message: `head dimension ${headDim} must be even for RoPE` });
    if (s.nHeads % s.nKvHeads !== 0) ctx.addIssue({ code: 'custom', path: ['nKvHeads'], message: `nHeads ${s.nHeads} is not a multiple of nKvHeads ${s.nKvHeads}` });
    const moe = s.family === 'mixtral' || s.family === 'qwen3-moe' || s.family === 'gpt-oss';
    if (moe !== (s.nExperts !== undefined && s.expertsPerToken !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['nExperts'], message: moe ? `family ${s.family} needs nExperts and expertsPerToken` : 'nExperts / expertsPerToken need a mixture-of-experts family (mixtral, qwen3-moe)' });
    }
    const minVocab = SYNTHETIC_TOKENIZER_SIZES[s.tokenizer];
    if (s.vocabSize !== undefined && s.vocabSize < minVocab) {
      ctx.addIssue({ code: 'custom', path: ['vocabSize'], message: `vocabSize ${s.vocabSize} is smaller than the ${s.tokenizer} tokenizer (${minVocab} ids)` });
    }
  });

export type SyntheticSpecInput = z.input<typeof syntheticSpecSchema>;
export type SyntheticSpec = z.output<typeof syntheticSpecSchema>;

export const SYNTHETIC_PRESETS = {
  /** A Llama-3-style small model: GQA 4:1, the real 128k tokenizer, tied embeddings. 77,730,304 parameters (65.7M of them the embedding). */
  'llama3-like-small': { dim: 512, hiddenDim: 1536, nLayers: 4, nHeads: 8, nKvHeads: 2, tokenizer: 'llama3', tiedEmbeddings: true },
  /**
   * About 100M parameters including embeddings: 82.08M embedding (tied) + 4 × 4.42M layers
   * + final norm = 99,784,320.
   */
  'synthetic-100m': { dim: 640, hiddenDim: 1792, nLayers: 4, nHeads: 10, nKvHeads: 2, tokenizer: 'llama3', tiedEmbeddings: true },
  /** Llama-2-like small shapes with a 32,000-token vocabulary (derived tokenizer, untied head). 19,532,032 parameters. */
  'dim256-vocab32k': { dim: 256, hiddenDim: 768, nLayers: 4, nHeads: 8, nKvHeads: 4, tokenizer: 'llama3-32k', tiedEmbeddings: false, ropeTheta: 10000 },
  /**
   * One layer of Llama-3.1-8B (dim 4096, GQA 32:8, hidden 14336, untied 128k embedding and
   * head; RoPE θ 500000 without Llama 3.1's long-context scaling), for benchmarks:
   * 1,268,789,248 parameters (218.1M in the layer), 2.5 GB in bf16.
   */
  'llama3-8b-layer': { dim: 4096, hiddenDim: 14336, nLayers: 1, nHeads: 32, nKvHeads: 8, tokenizer: 'llama3', tiedEmbeddings: false, maxSeqLen: 8192 },
  /** A Qwen2-style tiny model (q/k/v biases, Qwen3 tokenizer, vocabulary padded to 151,936 like Qwen's) for tests. 9,822,784 parameters. */
  'qwen2-like-tiny': { architecture: 'qwen2', dim: 64, hiddenDim: 192, nLayers: 2, nHeads: 4, nKvHeads: 2, tokenizer: 'qwen3', vocabSize: 151936, tiedEmbeddings: true, qkvBias: true, ropeTheta: 1000000, normEps: 1e-6 },
  // The families beyond the Llama layout, each with its real config.json fields (family-configs.ts) at tiny sizes.
  /** Llama 3.2's layout and its llama3 RoPE scaling (factor 32, original 8192), the real Llama 3 tokenizer, tied. */
  'llama3.2-like-tiny': { family: 'llama3.2', dim: 64, hiddenDim: 192, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, tokenizer: 'llama3', tiedEmbeddings: true, maxSeqLen: 131072 },
  /** Qwen3: q/k norm, head_dim 32 over hidden 64 (q width 128), the real Qwen3 tokenizer, 151,936-row vocabulary, tied. */
  'qwen3-like-tiny': { family: 'qwen3', dim: 64, hiddenDim: 192, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 32, tokenizer: 'qwen3', vocabSize: 151936, tiedEmbeddings: true, maxSeqLen: 40960 },
  /** Phi-3-mini's layout (fused qkv_proj / gate_up_proj, MHA, window 2047) with the derived 32k tokenizer and Phi-3's 32,064 rows (Phi-3's own Llama 2 tokenizer is not among the packages). */
  'phi3-like-tiny': { family: 'phi3', dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 4, tokenizer: 'llama3-32k', vocabSize: 32064, tiedEmbeddings: false, maxSeqLen: 4096 },
  /** Gemma 2's layout (soft-caps 50/30, alternating window 4096, four norms) with the derived 32k tokenizer (Gemma's own is not usable here). */
  'gemma2-like-tiny': { family: 'gemma2', dim: 64, hiddenDim: 256, nLayers: 4, nHeads: 4, nKvHeads: 2, headDim: 32, tokenizer: 'llama3-32k', tiedEmbeddings: true, maxSeqLen: 8192 },
  /** Gemma 3 (text) layout: 5 local (window 512, θ 10000) : 1 global (θ 1e6) layers, q/k norm; derived 32k tokenizer. */
  'gemma3-like-tiny': { family: 'gemma3', dim: 64, hiddenDim: 256, nLayers: 6, nHeads: 4, nKvHeads: 1, headDim: 32, tokenizer: 'llama3-32k', tiedEmbeddings: true, maxSeqLen: 32768 },
  /** Mixtral's layout: 8 experts, 2 per token (the real counts), 32,000-row vocabulary (derived tokenizer). */
  'mixtral-like-tiny': { family: 'mixtral', dim: 64, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, tokenizer: 'llama3-32k', tiedEmbeddings: false, nExperts: 8, expertsPerToken: 2, maxSeqLen: 32768 },
  /** Qwen3-MoE's layout (128 experts / 8 per token scaled to 16 / 4; q/k norm), the real Qwen3 tokenizer. */
  /** gpt-oss-20b's layout (32 experts / 4 per token → 8 / 2; sinks, q/k/v/o biases, clamped SwiGLU, window 128 on even layers, YaRN ×32), bf16-form experts, the Llama 3 tokenizer under gpt-oss's 201,088 rows (its own o200k tokenizer is not among the packages). */
  'gpt-oss-like-tiny': { family: 'gpt-oss', dim: 64, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 16, tokenizer: 'llama3', vocabSize: 201088, tiedEmbeddings: false, nExperts: 8, expertsPerToken: 2, maxSeqLen: 131072, dtype: 'bf16' },
  'qwen3-moe-like-tiny': { family: 'qwen3-moe', dim: 64, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 32, tokenizer: 'qwen3', vocabSize: 151936, tiedEmbeddings: false, nExperts: 16, expertsPerToken: 4, maxSeqLen: 40960 },
} as const satisfies Record<string, SyntheticSpecInput>;

export type SyntheticPresetName = keyof typeof SYNTHETIC_PRESETS;

export function isSyntheticPresetName(name: string): name is SyntheticPresetName {
  return Object.hasOwn(SYNTHETIC_PRESETS, name);
}

/** Validates a spec (or looks up a preset); throws a RangeError listing every problem. */
export function resolveSyntheticSpec(spec: SyntheticSpecInput | SyntheticPresetName): SyntheticSpec {
  if (typeof spec === 'string') {
    if (!isSyntheticPresetName(spec)) {
      throw new RangeError(`unknown synthetic preset "${spec}" (known: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`);
    }
    spec = SYNTHETIC_PRESETS[spec];
  }
  const parsed = syntheticSpecSchema.safeParse(spec);
  if (!parsed.success) {
    throw new RangeError(`synthetic spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** The config.json of a family spec (undefined for the plain Llama layout). */
export function syntheticFamilyConfigJson(spec: SyntheticSpec, ids: { bosTokenId?: number | undefined; eosTokenId?: number | undefined } = {}): Record<string, unknown> | undefined {
  if (!spec.family) return undefined;
  return familyConfigJson(spec.family, {
    dim: spec.dim,
    hiddenDim: spec.hiddenDim,
    nLayers: spec.nLayers,
    nHeads: spec.nHeads,
    nKvHeads: spec.nKvHeads,
    headDim: spec.headDim ?? spec.dim / spec.nHeads,
    vocabSize: spec.vocabSize ?? SYNTHETIC_TOKENIZER_SIZES[spec.tokenizer],
    maxSeqLen: spec.maxSeqLen,
    tiedEmbeddings: spec.tiedEmbeddings,
    dtype: spec.dtype,
    nExperts: spec.nExperts,
    expertsPerToken: spec.expertsPerToken,
    slidingWindow: spec.slidingWindow,
    ...ids,
  });
}

/** The ModelConfig a spec describes. */
export function syntheticModelConfig(spec: SyntheticSpec): ModelConfig {
  const familyJson = syntheticFamilyConfigJson(spec);
  if (familyJson) return parseHuggingFaceConfig(familyJson, `synthetic ${spec.family}`).config;
  return {
    architecture: spec.qkvBias ? 'qwen2' : spec.architecture,
    dim: spec.dim,
    hiddenDim: spec.hiddenDim,
    nLayers: spec.nLayers,
    nHeads: spec.nHeads,
    nKvHeads: spec.nKvHeads,
    headDim: spec.headDim ?? spec.dim / spec.nHeads,
    vocabSize: spec.vocabSize ?? SYNTHETIC_TOKENIZER_SIZES[spec.tokenizer],
    maxSeqLen: spec.maxSeqLen,
    ropeTheta: spec.ropeTheta,
    normEps: spec.normEps,
    tiedEmbeddings: spec.tiedEmbeddings,
  };
}

/** Number of parameters (tied embeddings counted once, biases and norms included). */
export function syntheticParameterCount(spec: SyntheticSpec): number {
  const familyJson = syntheticFamilyConfigJson(spec);
  if (familyJson) return familyTensorShapes(familyJson).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
  const c = syntheticModelConfig(spec);
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const perLayer = 2 * c.dim + q * c.dim + 2 * kv * c.dim + c.dim * q + 3 * c.hiddenDim * c.dim + (spec.qkvBias ? q + 2 * kv : 0);
  return c.vocabSize * c.dim * (c.tiedEmbeddings ? 1 : 2) + c.nLayers * perLayer + c.dim;
}

export type { SyntheticTokenizerName };
