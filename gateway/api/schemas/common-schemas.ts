/**
 * Zod pieces shared by the chat and legacy completion request schemas. Nullable fields follow
 * OpenAI's spec: `null` means "not set". These mirror openapi.yaml; the type-level test
 * tests/api/schema-agreement.test.ts keeps them in step with the generated types.
 */
import { z } from 'zod';

export const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();
export const nullableInteger = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.number().int().min(min).max(max).nullable().optional();

/** Stop strings: one string or 1..4 strings; null = none. */
export const stopSchema = z
  .union([z.string(), z.array(z.string()).min(1).max(4)])
  .nullable()
  .optional();

export const streamOptionsSchema = z
  .object({
    include_usage: z.boolean().optional(),
    /** Accepted and ignored: this gateway never pads chunks. */
    include_obfuscation: z.boolean().optional(),
  })
  .strict()
  .nullable()
  .optional();

/** Token id (decimal string) -> bias in [-100, 100]; ids are checked against the vocabulary later. */
export const logitBiasSchema = z.record(z.string(), z.number().min(-100).max(100)).nullable().optional();

/** Sampling and adjustment fields with the same meaning on both routes. */
export const samplingFields = {
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  /** Extension: 0 disables. */
  top_k: nullableInteger(0),
  /** Extension: 0 disables. */
  min_p: nullableNumber(0, 1),
  seed: z.number().int().safe().nullable().optional(),
  stop: stopSchema,
  n: nullableInteger(1),
  presence_penalty: nullableNumber(-2, 2),
  frequency_penalty: nullableNumber(-2, 2),
  logit_bias: logitBiasSchema,
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptionsSchema,
};
