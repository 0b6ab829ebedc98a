/**
 * The engine's model card (GET /v1/model-card): everything public about the served model that
 * a gateway needs to run sessions, and nothing secret. Public by design (protocol.md): the
 * architecture and shapes, each weight matrix's power-of-two scale (the dealer draws U from it),
 * the tokenizer files, the chat template, the mask profile; plus ids that let a gateway cache its
 * masked model: the model hash and the pairing id (a one-way id of the pairing key, not the key).
 */
import { z } from 'zod';
import { ropeScalingSchema } from '../../model/rope-scaling.js';
import { modelVariantSchema } from './model-variant-schema.js';
import { ATTENTION_MODES } from '../schedule/attention-mode.js';

const positiveInt = (max: number) => z.number().int().positive().max(max);
const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`), `expected ${length} lowercase hex characters`);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const modelConfigSchema = z.object({
  architecture: z.string().min(1).max(64),
  dim: positiveInt(1 << 16),
  hiddenDim: positiveInt(1 << 18),
  nLayers: positiveInt(1024),
  nHeads: positiveInt(1024),
  nKvHeads: positiveInt(1024),
  headDim: positiveInt(1 << 12),
  vocabSize: positiveInt(1 << 22),
  maxSeqLen: positiveInt(1 << 20),
  ropeTheta: z.number().positive(),
  /** The model's RoPE scaling (public, like θ): every party builds the same rotation table from it. */
  ropeScaling: ropeScalingSchema.optional(),
  /** Partial rotary embedding: the rotating width of each head (absent: headDim). */
  rotaryDim: positiveInt(1 << 12).optional(),
  normEps: z.number().positive(),
  tiedEmbeddings: z.boolean(),
  /** Steps beyond the Llama math (model-variant-schema.ts); absent: none. */
  variant: modelVariantSchema.optional(),
});

export const weightSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  op: z.enum(['linear', 'embedding']),
  outDim: positiveInt(1 << 22),
  inDim: positiveInt(1 << 22),
  scale: z
    .number()
    .positive()
    .refine((s) => Number.isInteger(Math.log2(s)), 'scale must be a power of two'),
  hasBias: z.boolean(),
});

const exponent = z.number().int().min(-64).max(64);

/** ring64: one weight matrix's int16 row blocks and their exponents (model/fixed-point/fixed-point-weights.ts); public like a float scale. */
export const ringWeightSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  outDim: positiveInt(1 << 22),
  inDim: positiveInt(1 << 22),
  blocks: z.array(z.object({ rows: positiveInt(1 << 22), exponent })).min(1).max(16),
  hasBias: z.boolean(),
}).refine((w) => w.blocks.reduce((n, b) => n + b.rows, 0) === w.outDim, 'the blocks\' rows must add up to outDim');

const rangeValue = z.number().nonnegative().finite();

/**
 * ring64: the public fixed-point plan (model/fixed-point/fixed-point-plan.ts), the exponent of
 * every value of the forward pass; every party runs the same plan, the user decodes its views
 * at the exponents it names.
 */
export const fixedPointPlanSchema = z.object({
  format: z.enum(['permllm-fixed-point/1', 'permllm-fixed-point/2', 'permllm-fixed-point/3']),
  ffnNormDeferred: z.literal(true).optional(),
  /** The fused P·V step's byte bound (model/fixed-point/plan-fused-values.ts): every party applies the same rule. */
  fusedValuesBytes: z.number().int().nonnegative().max(2 ** 40).optional(),
  headroomBits: z.number().int().min(0).max(32),
  residual: exponent,
  onehot: exponent,
  embedding: exponent,
  rope: exponent,
  layers: z
    .array(
      z
        .object({
          attnNorm: exponent, qk: exponent, v: exponent, o: exponent, scores: exponent, probs: exponent, ffnNorm: exponent, gateUp: exponent, ffn: exponent, down: exponent,
          qkNorm: z.object({ out: exponent, gamma: exponent }).strict().optional(),
          postNorm: z.object({ raw: exponent, out: exponent, attnGamma: exponent, ffnGamma: exponent }).strict().optional(),
          moe: z.object({ router: exponent, logits: exponent, gate: exponent }).strict().optional(),
        })
        .strict(),
    )
    .min(1)
    .max(1024),
  finalNorm: exponent,
  head: exponent,
  logits: exponent,
  ranges: z
    .object({
      residual: rangeValue, normed: rangeValue, query: rangeValue, key: rangeValue, value: rangeValue, scores: rangeValue, attention: rangeValue, gateUp: rangeValue, ffn: rangeValue, logits: rangeValue,
      qkRaw: rangeValue.optional(), qkNormed: rangeValue.optional(), postRaw: rangeValue.optional(), postNormed: rangeValue.optional(), router: rangeValue.optional(), rawGateUp: rangeValue.optional(),
    })
    .strict(),
})
  .strict()
  .refine((p) => (p.format === 'permllm-fixed-point/3') === (p.fusedValuesBytes !== undefined), 'format permllm-fixed-point/3 is exactly the plan with the fused P·V step')
  .refine((p) => p.format === 'permllm-fixed-point/3' || (p.format === 'permllm-fixed-point/2') === (p.ffnNormDeferred === true), 'format permllm-fixed-point/2 is exactly the plan with deferred FFN normalisation (and no fused P·V)');

/** ring64 part of a card or pairing request: the plan and the ring weight specs (what the dealer derives U from). */
export const fixedPointSpecsSchema = z.object({
  plan: fixedPointPlanSchema,
  weights: z.array(ringWeightSpecSchema).min(1).max(1 << 16),
});

export type FixedPointSpecs = z.infer<typeof fixedPointSpecsSchema>;

/** Tokenizer files, base64: llama2.c's tokenizer.bin, or a Hugging Face folder's tokenizer files. */
export const HF_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json'] as const;

export const tokenizerFilesSchema = z.discriminatedUnion('format', [
  z.object({ format: z.literal('llama2c'), files: z.object({ 'tokenizer.bin': base64 }) }),
  z.object({
    format: z.literal('huggingface'),
    files: z.record(z.enum(HF_TOKENIZER_FILES), base64).refine((f) => f['tokenizer.json'] !== undefined, 'tokenizer.json is required'),
  }),
]);

export const MASKED_MODEL_FORMAT = 'permllm-masked/1';

export const modelCardSchema = z
  .object({
  cardVersion: z.literal(1),
  /** The model id clients send as `model`. */
  id: z.string().min(1).max(256),
  /** Unix seconds when the engine loaded the model. */
  created: z.number().int().nonnegative(),
  /** sha256 of the architecture and the (γ-folded) weights: which model this is. */
  modelHash: hex(64),
  /** Storage dtype of the checkpoint (informational). */
  dtype: z.enum(['f32', 'f16', 'bf16']),
  config: modelConfigSchema,
  /** Float profiles' weight specs (empty under ring64, whose specs are in `fixedPoint`). */
  weights: z.array(weightSpecSchema).max(1 << 16),
  /** ring64 only: the public fixed-point plan and the ring weight specs. */
  fixedPoint: fixedPointSpecsSchema.optional(),
  /** Mask profile name (protocol/masks/mask-profile.ts) and the share dtype it implies. */
  maskProfile: z.string().min(1).max(64),
  shareDtype: z.enum(['float64', 'float32', 'ring64']),
  tokenizer: tokenizerFilesSchema,
  chatTemplate: z.string().max(1 << 20).optional(),
  /** The engine–dealer pairing the masked model belongs to. */
  pairing: z.object({ id: hex(32) }),
  maskedModel: z.object({ format: z.literal(MASKED_MODEL_FORMAT), bytes: z.number().int().positive(), sha256: hex(64) }),
  /** Largest protocol frame either side may send in a session (the ws message limit). */
  maxFrameBytes: z.number().int().positive(),
  /** Attention modes the engine's operator allows (protocol/schedule/attention-mode.ts); absent: 'beaver' only. */
  attentionModes: z.array(z.enum(ATTENTION_MODES)).min(1).max(ATTENTION_MODES.length).optional(),
})
  .refine((c) => (c.shareDtype === 'ring64') === (c.fixedPoint !== undefined), 'fixedPoint is present exactly when shareDtype is ring64')
  .refine((c) => c.shareDtype === 'ring64' || c.weights.length > 0, 'a float profile needs its weight specs');

export type ModelCard = z.infer<typeof modelCardSchema>;
export type TokenizerFiles = z.infer<typeof tokenizerFilesSchema>;
