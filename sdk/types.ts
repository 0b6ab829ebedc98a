/** Friendly names for the generated OpenAPI types (sdk/generated/openapi.ts, never edited). */
import type { components } from './generated/openapi.js';

type Schemas = components['schemas'];

export type ChatCompletionCreateParams = Schemas['CreateChatCompletionRequest'];
export type ChatCompletionCreateParamsStreaming = ChatCompletionCreateParams & { stream: true };
export type ChatCompletionCreateParamsNonStreaming = ChatCompletionCreateParams & { stream?: false | null };
export type ChatMessage = Schemas['ChatMessage'];
export type ChatCompletion = Schemas['ChatCompletion'];
export type ChatCompletionChunk = Schemas['ChatCompletionChunk'];

export type CompletionCreateParams = Schemas['CreateCompletionRequest'];
export type CompletionCreateParamsStreaming = CompletionCreateParams & { stream: true };
export type CompletionCreateParamsNonStreaming = CompletionCreateParams & { stream?: false | null };
export type Completion = Schemas['Completion'];

export type ResponseCreateParams = Schemas['CreateResponseRequest'];
export type ResponseCreateParamsStreaming = ResponseCreateParams & { stream: true };
export type ResponseCreateParamsNonStreaming = ResponseCreateParams & { stream?: false | null };
export type ResponseObject = Schemas['ResponseObject'];
/** One Responses stream event (`type`, `sequence_number` and the event's fields). */
export type ResponseStreamEvent = { type: string; sequence_number: number } & Record<string, unknown>;

export type EmbeddingCreateParams = Schemas['CreateEmbeddingRequest'];
export type CreateEmbeddingResponse = Schemas['CreateEmbeddingResponse'];
export type Embedding = Schemas['Embedding'];

export type TokenizeParams = Schemas['TokenizeRequest'];
export interface TokenizeResult {
  count: number;
  max_model_len: number;
  tokens: number[];
}

export type CompletionUsage = Schemas['CompletionUsage'];
export type Model = Schemas['Model'];
export type ModelList = Schemas['ModelList'];
export type ErrorResponse = Schemas['ErrorResponse'];
/** What a request cost the private protocol (zero bytes on a plaintext gateway). */
export type PermllmStats = Schemas['PermllmStats'];

/** A non-streaming result, with the protocol cost from the `x-permllm-stats` header when sent. */
export type WithStats<T> = T & { permllm?: PermllmStats };

export interface RequestOptions {
  /** Aborts the request (and, on the gateway, the generation behind it). */
  signal?: AbortSignal;
  /** Extra headers for this request only. */
  headers?: Record<string, string>;
}
