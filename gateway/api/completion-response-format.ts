/** Legacy `text_completion` objects (whole, and as stream chunks). */
import type { Tokenizer } from '../../model/tokenizer.js';
import type { ChoiceToken } from './choice-runner.js';
import type { ResponseFormatter } from './response-formatter.js';
import { responseId, unixNow } from './response-ids.js';
import type { Completion, CompletionLogprobs } from './wire-types.js';

export function legacyLogprobs(tokenizer: Tokenizer, tokens: readonly ChoiceToken[]): CompletionLogprobs {
  return {
    tokens: tokens.map((t) => tokenizer.tokenText(t.id)),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.map((alt) => [tokenizer.tokenText(alt.id), alt.logprob]))),
    text_offset: tokens.map((t) => t.textOffset),
  };
}

export function completionFormatter(options: {
  model: string;
  tokenizer: Tokenizer;
  logprobs: boolean;
  includeUsage: boolean;
}): ResponseFormatter<Completion, Completion> {
  const id = responseId('cmpl');
  const created = unixNow();
  const base = () => ({ id, object: 'text_completion' as const, created, model: options.model });
  const usageNull = options.includeUsage ? { usage: null } : {};
  const logprobsOf = (tokens: readonly ChoiceToken[]) => (options.logprobs ? legacyLogprobs(options.tokenizer, tokens) : null);

  return {
    streamStart: () => [],
    textChunks: (u) => [
      {
        ...base(),
        choices: [{ index: u.index, text: u.text, logprobs: logprobsOf(u.tokens), finish_reason: null }],
        ...usageNull,
      },
    ],
    finishChunks: (u) => [
      {
        ...base(),
        choices: [{ index: u.index, text: '', logprobs: null, finish_reason: u.reason }],
        ...usageNull,
      },
    ],
    usageChunk: (usage) => ({ ...base(), choices: [], usage }),
    complete: (choices, usage) => ({
      ...base(),
      choices: choices.map((c) => ({
        index: c.index,
        text: c.text,
        logprobs: logprobsOf(c.tokens),
        finish_reason: c.finishReason,
      })),
      usage,
    }),
  };
}
