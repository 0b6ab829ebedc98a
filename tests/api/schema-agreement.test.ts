/**
 * The zod request schemas (what the server accepts) and the types generated from openapi.yaml
 * (what the spec and the SDK promise) must describe the same requests. Checked at the type
 * level (tsc / vitest typecheck: mutual equality after normalising optional `undefined`) and
 * at run time (the same top-level fields on both sides).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { chatCompletionRequestSchema } from '../../gateway/api/schemas/chat-completion-request.js';
import { completionRequestSchema } from '../../gateway/api/schemas/completion-request.js';
import { embeddingsRequestSchema } from '../../gateway/api/schemas/embeddings-request.js';
import type { components } from '../../sdk/generated/openapi.js';

type Schemas = components['schemas'];

/**
 * zod marks optional fields `?: T | undefined`; openapi-typescript writes `?: T`. Under
 * exactOptionalPropertyTypes these differ only by the explicit `undefined`, which JSON cannot
 * carry anyway, so it is removed on both sides before comparing.
 */
type Normalize<T> = T extends readonly (infer U)[]
  ? Normalize<U>[]
  : T extends object
    ? { [K in keyof T]: Normalize<Exclude<T[K], undefined>> }
    : T;

type ZodChat = Normalize<z.input<typeof chatCompletionRequestSchema>>;
type SpecChat = Normalize<Schemas['CreateChatCompletionRequest']>;
type ZodCompletion = Normalize<z.input<typeof completionRequestSchema>>;
type ZodEmbedding = Normalize<z.input<typeof embeddingsRequestSchema>>;
type SpecEmbedding = Normalize<Schemas['CreateEmbeddingRequest']>;
type SpecCompletion = Normalize<Schemas['CreateCompletionRequest']>;

// Every spec field listed once; a missing or extra key is a compile error.
const chatFields: Record<keyof Schemas['CreateChatCompletionRequest'], true> = {
  model: true, messages: true, max_tokens: true, max_completion_tokens: true, temperature: true, top_p: true,
  top_k: true, min_p: true, seed: true, stop: true, n: true, presence_penalty: true, frequency_penalty: true,
  logit_bias: true, logprobs: true, top_logprobs: true, stream: true, stream_options: true, response_format: true,
  user: true, safety_identifier: true, tools: true, tool_choice: true, parallel_tool_calls: true, chat_template_kwargs: true,
  store: true, metadata: true, service_tier: true, prompt_cache_key: true, modalities: true, repetition_penalty: true,
};
const completionFields: Record<keyof Schemas['CreateCompletionRequest'], true> = {
  model: true, prompt: true, max_tokens: true, temperature: true, top_p: true, top_k: true, min_p: true, seed: true,
  stop: true, n: true, presence_penalty: true, frequency_penalty: true, logit_bias: true, logprobs: true, stream: true,
  stream_options: true, echo: true, suffix: true, best_of: true, user: true,
};

describe('zod request schemas agree with the generated OpenAPI types', () => {
  it('chat completion request: same type, same fields', () => {
    expectTypeOf<ZodChat>().toEqualTypeOf<SpecChat>();
    expectTypeOf<ZodChat['messages'][number]>().toEqualTypeOf<Normalize<Schemas['ChatMessage']>>();
    expect(Object.keys(chatCompletionRequestSchema.shape).sort()).toEqual(Object.keys(chatFields).sort());
  });

  it('legacy completion request: same type, same fields', () => {
    expectTypeOf<ZodCompletion>().toEqualTypeOf<SpecCompletion>();
    expect(Object.keys(completionRequestSchema.shape).sort()).toEqual(Object.keys(completionFields).sort());
  });

  it('embedding request: same type, same fields', () => {
    expectTypeOf<ZodEmbedding>().toEqualTypeOf<SpecEmbedding>();
    const fields: Record<keyof Schemas['CreateEmbeddingRequest'], true> = { model: true, input: true, encoding_format: true, dimensions: true, user: true };
    expect(Object.keys(embeddingsRequestSchema.shape).sort()).toEqual(Object.keys(fields).sort());
  });

  it('a request typed by the spec is accepted by the server schema', () => {
    const request: Schemas['CreateChatCompletionRequest'] = {
      model: 'stories260K',
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: null, refusal: null },
        { role: 'tool', content: 'r', tool_call_id: 't' },
      ],
      stop: null,
      logit_bias: { '3': -1 },
      stream_options: null,
      response_format: { type: 'text' },
    };
    expect(chatCompletionRequestSchema.safeParse(request).success).toBe(true);
  });
});
