/**
 * `POST /v1/completions` (legacy) request body, as openapi.yaml's `CreateCompletionRequest`.
 * `echo: true`, a `suffix` string and `best_of > 1` parse here and are rejected by the route
 * with `unsupported_parameter`, so the error names them precisely.
 */
import { z } from 'zod';
import { nullableInteger, samplingFields } from './common-schemas.js';

const tokenId = z.number().int().min(0);

export const completionPromptSchema = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.array(tokenId).min(1),
  z.array(z.array(tokenId).min(1)).min(1),
]);

export const completionRequestSchema = z
  .object({
    model: z.string(),
    prompt: completionPromptSchema,
    max_tokens: nullableInteger(1),
    ...samplingFields,
    logprobs: nullableInteger(0, 5),
    echo: z.boolean().nullable().optional(),
    suffix: z.string().nullable().optional(),
    best_of: nullableInteger(1),
    /** Accepted and unused. */
    user: z.string().optional(),
  })
  .strict();

export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;
