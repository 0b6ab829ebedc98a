/** `chat.completion` and `chat.completion.chunk` objects, exactly OpenAI's shapes. */
import type { Tokenizer } from '../../model/tokenizer.js';
import type { ChoiceToken } from './choice-runner.js';
import type { ResponseFormatter } from './response-formatter.js';
import { responseId, unixNow } from './response-ids.js';
import type { ChatCompletion, ChatCompletionChunk, ChoiceLogprobs } from './wire-types.js';

function tokenBytes(token: string): number[] {
  return [...Buffer.from(token, 'utf8')];
}

export function chatLogprobs(tokenizer: Tokenizer, tokens: readonly ChoiceToken[]): ChoiceLogprobs {
  return {
    content: tokens.map((t) => {
      const token = tokenizer.tokenText(t.id);
      return {
        token,
        logprob: t.logprob,
        bytes: tokenBytes(token),
        top_logprobs: t.top.map((alt) => {
          const altToken = tokenizer.tokenText(alt.id);
          return { token: altToken, logprob: alt.logprob, bytes: tokenBytes(altToken) };
        }),
      };
    }),
    refusal: null,
  };
}

export function chatFormatter(options: {
  model: string;
  tokenizer: Tokenizer;
  logprobs: boolean;
  includeUsage: boolean;
}): ResponseFormatter<ChatCompletion, ChatCompletionChunk> {
  const id = responseId('chatcmpl');
  const created = unixNow();
  const base = () => ({ id, object: 'chat.completion.chunk' as const, created, model: options.model });
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const usageNull = options.includeUsage ? { usage: null } : {};
  const chunkLogprobs = (tokens: readonly ChoiceToken[]) =>
    options.logprobs ? chatLogprobs(options.tokenizer, tokens) : null;

  return {
    streamStart: (indices) =>
      indices.map((index) => ({
        ...base(),
        choices: [{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }],
        ...usageNull,
      })),
    textChunk: (u) => ({
      ...base(),
      choices: [{ index: u.index, delta: { content: u.text }, logprobs: chunkLogprobs(u.tokens), finish_reason: null }],
      ...usageNull,
    }),
    finishChunk: (u) => ({
      ...base(),
      choices: [{ index: u.index, delta: {}, logprobs: null, finish_reason: u.reason }],
      ...usageNull,
    }),
    usageChunk: (usage) => ({ ...base(), choices: [], usage }),
    complete: (choices, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model: options.model,
      choices: choices.map((c) => ({
        index: c.index,
        message: { role: 'assistant', content: c.text, refusal: null, annotations: [] },
        logprobs: options.logprobs ? chatLogprobs(options.tokenizer, c.tokens) : null,
        finish_reason: c.finishReason,
      })),
      usage,
    }),
  };
}
