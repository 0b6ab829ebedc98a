/**
 * `POST /v1/chat/completions` request body, as openapi.yaml's `CreateChatCompletionRequest`.
 * Strict: unknown fields (OpenAI's `audio`, `prediction`, ...) fail validation and are reported
 * as `unsupported_parameter`. Fields that change nothing about what a text-only private model
 * returns (`store: false`, `metadata`, `service_tier`, ...) are accepted and ignored; fields an
 * assistant message carries when a client echoes `choices[0].message` back into `messages`
 * (`annotations`, `tool_calls: null`, `audio: null`, ...) are accepted too. Semantic checks
 * (model id, tool names, schemas, context length) happen after parsing, in the route.
 */
import { z } from 'zod';
import { nullableInteger, samplingFields } from './common-schemas.js';

/** Anthropic-style prompt-cache hints some clients put on parts; accepted and ignored. */
const cacheControlSchema = z.record(z.string(), z.unknown()).optional();

export const textContentPartSchema = z
  .object({ type: z.literal('text'), text: z.string(), cache_control: cacheControlSchema })
  .strict();
const refusalContentPartSchema = z.object({ type: z.literal('refusal'), refusal: z.string() }).strict();
const textContentSchema = z.union([z.string(), z.array(textContentPartSchema)]);

export const messageToolCallSchema = z
  .object({
    id: z.string(),
    type: z.literal('function'),
    /** `parsed_arguments`: what the openai client's helpers add when a runner echoes history; ignored. */
    function: z.object({ name: z.string(), arguments: z.string(), parsed_arguments: z.unknown().optional() }).strict(),
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
      tool_calls: z.array(messageToolCallSchema).nullable().optional(),
      /** Legacy single function call (history only); rendered like one tool call. */
      function_call: z.object({ name: z.string(), arguments: z.string() }).strict().nullable().optional(),
      /** Echoed response fields; ignored. */
      annotations: z.array(z.unknown()).nullable().optional(),
      audio: z.object({ id: z.string() }).passthrough().nullable().optional(),
      /** Reasoning text of servers that return it (vLLM, DeepSeek); given to templates that read it. */
      reasoning_content: z.string().nullable().optional(),
      /** What the openai client's `.parse()` adds to a message; ignored when echoed. */
      parsed: z.unknown().optional(),
    })
    .strict(),
  z.object({ role: z.literal('tool'), content: textContentSchema, tool_call_id: z.string() }).strict(),
]);

/** A JSON Schema object (validated for the supported subset in gateway/constrained). */
const jsonSchemaObject = z.record(z.string(), z.unknown());

export const functionDefinitionSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
    description: z.string().optional(),
    parameters: jsonSchemaObject.optional(),
    strict: z.boolean().nullable().optional(),
  })
  .strict();

export const chatToolSchema = z.object({ type: z.literal('function'), function: functionDefinitionSchema }).strict();

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }).strict() }).strict(),
]);

export const jsonSchemaFormatSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
    description: z.string().optional(),
    schema: jsonSchemaObject.optional(),
    strict: z.boolean().nullable().optional(),
  })
  .strict();

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).strict(),
  z.object({ type: z.literal('json_object') }).strict(),
  z.object({ type: z.literal('json_schema'), json_schema: jsonSchemaFormatSchema }).strict(),
]);

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
    tools: z.array(chatToolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    parallel_tool_calls: z.boolean().optional(),
    /** Extra variables for the chat template (e.g. `enable_thinking`). */
    chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
    /** Accepted and unused. */
    user: z.string().optional(),
    /** Accepted and unused. */
    safety_identifier: z.string().optional(),
    /** Accepted when false or null: nothing is ever stored. */
    store: z.literal(false).nullable().optional(),
    /** Accepted and unused. */
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    /** Accepted and unused (one tier). */
    service_tier: z.string().nullable().optional(),
    /** Accepted and unused. */
    prompt_cache_key: z.string().optional(),
    /** Accepted when it asks for text only. */
    modalities: z.array(z.literal('text')).nullable().optional(),
    /** Accepted and ignored: a multiplicative penalty depends on each logit's sign, which P1 only sees permuted. */
    repetition_penalty: z.number().positive().nullable().optional(),
  })
  .strict();

export type ChatCompletionRequestBody = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessageBody = z.infer<typeof chatMessageSchema>;
export type ChatToolBody = z.infer<typeof chatToolSchema>;
export type ToolChoiceBody = z.infer<typeof toolChoiceSchema>;
export type ResponseFormatBody = z.infer<typeof responseFormatSchema>;
