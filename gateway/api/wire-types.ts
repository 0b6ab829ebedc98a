/**
 * The OpenAI wire shapes this gateway sends, taken from the types generated from openapi.yaml
 * so that what the server emits and what the spec promises cannot drift apart.
 */
import type { components } from '../../sdk/generated/openapi.js';

type Schemas = components['schemas'];
export type ChatCompletion = Schemas['ChatCompletion'];
export type ChatCompletionChunk = Schemas['ChatCompletionChunk'];
export type Completion = Schemas['Completion'];
export type CompletionUsage = Schemas['CompletionUsage'];
export type PermllmStats = Schemas['PermllmStats'];
export type ChoiceLogprobs = Schemas['ChoiceLogprobs'];
export type CompletionLogprobs = Schemas['CompletionLogprobs'];
export type Model = Schemas['Model'];
export type ModelList = Schemas['ModelList'];
export type Readiness = Schemas['Readiness'];
export type Health = Schemas['Health'];
