/**
 * `POST /v1/responses` request body (OpenAI's Responses API, the default of the Agents SDK and
 * of `@ai-sdk/openai`), as far as a stateless text model can serve it: `input` as a string or
 * items (messages with text parts, `function_call` and `function_call_output` items; reasoning
 * items are accepted and skipped), `instructions`, function `tools`, `tool_choice`,
 * `text.format` structured outputs, sampling. `store` is accepted only as false (nothing is
 * stored, so there is no `previous_response_id`). Unknown fields fail as `unsupported_parameter`.
 */
import { z } from 'zod';
import { nullableInteger, nullableNumber } from './common-schemas.js';

const inputText = z.object({ type: z.literal('input_text'), text: z.string() }).strict();
const outputText = z
  .object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()).optional(), logprobs: z.array(z.unknown()).optional() })
  .strict();
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() }).strict();

const messageItem = z
  .object({
    type: z.literal('message').optional(),
    id: z.string().optional(),
    status: z.string().optional(),
    role: z.enum(['user', 'system', 'developer', 'assistant']),
    content: z.union([z.string(), z.array(z.union([inputText, outputText, refusal]))]),
  })
  .strict();

const functionCallItem = z
  .object({
    type: z.literal('function_call'),
    id: z.string().optional(),
    status: z.string().optional(),
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  })
  .strict();

const functionCallOutputItem = z
  .object({
    type: z.literal('function_call_output'),
    id: z.string().nullable().optional(),
    status: z.string().nullable().optional(),
    call_id: z.string(),
    output: z.union([z.string(), z.array(inputText)]),
  })
  .strict();

/** Reasoning items of other models in echoed history; skipped. */
const reasoningItem = z.object({ type: z.literal('reasoning') }).passthrough();

export const responseInputItemSchema = z.union([messageItem, functionCallItem, functionCallOutputItem, reasoningItem]);

const functionTool = z
  .object({
    type: z.literal('function'),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
    description: z.string().nullable().optional(),
    parameters: z.record(z.string(), z.unknown()).nullable().optional(),
    strict: z.boolean().nullable().optional(),
  })
  .strict();

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).strict(),
  z.object({ type: z.literal('json_object') }).strict(),
  z
    .object({
      type: z.literal('json_schema'),
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
      schema: z.record(z.string(), z.unknown()),
      description: z.string().optional(),
      strict: z.boolean().nullable().optional(),
    })
    .strict(),
]);

export const responsesRequestSchema = z
  .object({
    model: z.string(),
    input: z.union([z.string(), z.array(responseInputItemSchema).min(1)]),
    instructions: z.string().nullable().optional(),
    tools: z.array(functionTool).optional(),
    tool_choice: z
      .union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), name: z.string() }).strict()])
      .optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    text: z.object({ format: textFormat.optional(), verbosity: z.string().nullable().optional() }).strict().optional(),
    max_output_tokens: nullableInteger(1),
    temperature: nullableNumber(0, 2),
    top_p: nullableNumber(0, 1),
    stream: z.boolean().nullable().optional(),
    /** Accepted when false or null: nothing is stored. */
    store: z.literal(false).nullable().optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
    user: z.string().optional(),
    safety_identifier: z.string().optional(),
    service_tier: z.string().nullable().optional(),
    prompt_cache_key: z.string().optional(),
    truncation: z.enum(['disabled', 'auto']).nullable().optional(),
    /** Accepted when empty. */
    include: z.array(z.string()).max(0).nullable().optional(),
    /** Accepted and ignored (no reasoning model). */
    reasoning: z.object({}).passthrough().nullable().optional(),
    stream_options: z.object({ include_obfuscation: z.boolean().optional() }).strict().nullable().optional(),
  })
  .strict();

export type ResponsesRequestBody = z.infer<typeof responsesRequestSchema>;
export type ResponseInputItem = z.infer<typeof responseInputItemSchema>;
