/**
 * `POST /v1/embeddings` body, as OpenAI defines it: `input` is a string, a list of strings, a
 * token-id array or a list of token-id arrays; `encoding_format` float (default) or base64
 * (little-endian float32, what the openai client asks for by default); `dimensions` truncates.
 */
import { z } from 'zod';

const tokenIds = z.array(z.number().int().min(0));

export const embeddingInputSchema = z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)]);

export const embeddingsRequestSchema = z
  .object({
    model: z.string(),
    input: embeddingInputSchema,
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).optional(),
    /** Accepted and unused. */
    user: z.string().optional(),
  })
  .strict();

export type EmbeddingsRequestBody = z.infer<typeof embeddingsRequestSchema>;
