/**
 * What differs between `/v1/chat/completions` and `/v1/completions` once generation runs: the
 * shape of chunks and of the final object. `serve-generation.ts` drives either through this.
 */
import type { ChoiceToken, ChoiceUpdate } from './choice-runner.js';
import type { CompletionUsage } from './wire-types.js';

export interface CollectedChoice {
  index: number;
  text: string;
  tokens: ChoiceToken[];
  finishReason: 'stop' | 'length';
}

export type TextUpdate = Extract<ChoiceUpdate, { type: 'text' }>;
export type FinishUpdate = Extract<ChoiceUpdate, { type: 'finish' }>;

export interface ResponseFormatter<TFinal, TChunk> {
  /** Chunks sent before any token (chat: each choice's role chunk). */
  streamStart(indices: readonly number[]): TChunk[];
  /** Chunks for generated text (none while text is held back, e.g. a tool call being written). */
  textChunks(update: TextUpdate): TChunk[];
  /** Held-back chunks, then the one chunk carrying the choice's finish_reason (last). */
  finishChunks(update: FinishUpdate): TChunk[];
  /** The usage chunk (`choices: []`) sent last when include_usage is on. */
  usageChunk(usage: CompletionUsage): TChunk;
  complete(choices: readonly CollectedChoice[], usage: CompletionUsage): TFinal;
}
