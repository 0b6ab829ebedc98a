/**
 * The model card's and pairing request's form of ModelVariant (model/model-description.ts): the
 * public steps beyond the Llama math that every party's program must follow (the gateway and the
 * dealer build their schedule from it, e.g. Qwen3's q/k norm steps, Gemma's windows and soft-caps).
 * Architecture, like shapes: public by design, no weight values.
 */
import { z } from 'zod';
import type { ModelVariant } from '../../model/model-description.js';
import { ropeScalingSchema } from '../../model/rope-scaling.js';

const positive = z.number().positive().finite();
const positiveInt = z.number().int().positive().max(1 << 24);

export const modelVariantSchema = z
  .object({
    qkNorm: z.boolean().optional(),
    activation: z.enum(['silu', 'gelu-tanh', 'clamped-swiglu']).optional(),
    swigluLimit: positive.optional(),
    attentionSinks: z.boolean().optional(),
    outputBias: z.boolean().optional(),
    postNorms: z.boolean().optional(),
    embeddingScale: positive.optional(),
    attentionScale: positive.optional(),
    attentionSoftcap: positive.optional(),
    finalSoftcap: positive.optional(),
    layerWindows: z.array(positiveInt.nullable()).max(1024).optional(),
    localRope: z.object({ theta: positive, scaling: ropeScalingSchema.optional() }).strict().optional(),
    moe: z.object({ nExperts: positiveInt, topK: positiveInt, normalizeTopK: z.boolean(), biases: z.boolean().optional() }).strict().optional(),
  })
  .strict()
  // zod's optional fields read `T | undefined`; a parsed variant never holds an explicit undefined.
  .transform((v) => v as ModelVariant);
