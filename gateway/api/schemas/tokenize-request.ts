/**
 * `POST /tokenize` and `POST /detokenize` bodies (vLLM's extension routes): text or a chat
 * conversation to token ids, and back. Everything happens in the gateway (P1): the engine is
 * never asked, so these reveal nothing to it.
 */
import { z } from 'zod';
import { chatMessageSchema, chatToolSchema } from './chat-completion-request.js';

export const tokenizeRequestSchema = z.union([
  z
    .object({
      model: z.string(),
      prompt: z.string(),
      /** Add BOS (when the model has one). Default true. */
      add_special_tokens: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      model: z.string(),
      messages: z.array(chatMessageSchema).min(1),
      tools: z.array(chatToolSchema).optional(),
      /** Extra template variables, as for chat completions. */
      chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);

export const detokenizeRequestSchema = z
  .object({
    model: z.string(),
    tokens: z.array(z.number().int().min(0)),
  })
  .strict();

export type TokenizeRequestBody = z.infer<typeof tokenizeRequestSchema>;
