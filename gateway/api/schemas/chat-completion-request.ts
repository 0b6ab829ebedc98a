/**
 * `POST /v1/chat/completions` request body, as openapi.yaml's `CreateChatCompletionRequest`.
 * Strict: unknown fields (OpenAI's `tools`, `audio`, ...) fail validation and are reported as
 * `unsupported_parameter`. Semantic checks (model id, response_format, context length) happen
 * after parsing, in the route.
 */
import { z } from 'zod';
import { nullableInteger, samplingFields } from './common-schemas.js';

export const textContentPartSchema = z.object({ type: z.literal('text'), text: z.string() }).strict();
const refusalContentPartSchema = z.object({ type: z.literal('refusal'), refusal: z.string() }).strict();
const textContentSchema = z.union([z.string(), z.array(textContentPartSchema)]);

const messageToolCallSchema = z
  .object({
    id: z.string(),
    type: z.literal('function'),
    function: z.object({ name: z.string(), arguments: z.string() }).strict(),
  })
  .strict();

export const chatMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContentSchema, name: z.string().optional() }).strict(),
  z.object({ role: z.literal('developer'), content: textContentSchema, name: z.string().optional() }).strict(),
  z.object({ role: z.literal('user'), content: textContentSchema, name: z.string().optional() }).strict(),
  z
    .object({
      role: z.literal('assistant'),
      content: z
        .union([z.string(), z.array(z.union([textContentPartSchema, refusalContentPartSchema]))])
        .nullable()
        .optional(),
      name: z.string().optional(),
      refusal: z.string().nullable().optional(),
      tool_calls: z.array(messageToolCallSchema).optional(),
    })
    .strict(),
  z.object({ role: z.literal('tool'), content: textContentSchema, tool_call_id: z.string() }).strict(),
]);

export const responseFormatSchema = z
  .object({
    type: z.enum(['text', 'json_object', 'json_schema']),
    json_schema: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const chatCompletionRequestSchema = z
  .object({
    model: z.string(),
    messages: z.array(chatMessageSchema).min(1),
    max_tokens: nullableInteger(1),
    max_completion_tokens: nullableInteger(1),
    ...samplingFields,
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: nullableInteger(0, 20),
    response_format: responseFormatSchema.optional(),
    /** Accepted and unused. */
    user: z.string().optional(),
    /** Accepted and unused. */
    safety_identifier: z.string().optional(),
  })
  .strict();

export type ChatCompletionRequestBody = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessageBody = z.infer<typeof chatMessageSchema>;
