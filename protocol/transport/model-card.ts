/**
 * The engine's model card (GET /v1/model-card): everything public about the served model that
 * a gateway needs to run sessions, and nothing secret. Public by design (protocol.md): the
 * architecture and shapes, each weight matrix's power-of-two scale (the dealer draws U from it),
 * the tokenizer files, the chat template, the mask profile; plus ids that let a gateway cache its
 * masked model: the model hash and the pairing id (a one-way id of the pairing key, not the key).
 */
import { z } from 'zod';
import { ropeScalingSchema } from '../../model/rope-scaling.js';

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

export const modelCardSchema = z.object({
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
  weights: z.array(weightSpecSchema).min(1).max(1 << 16),
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
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type TokenizerFiles = z.infer<typeof tokenizerFilesSchema>;
