/** `POST /v1/completions` (legacy). */
import type { Context } from 'hono';
import { InvalidRequestError, UnsupportedParameterError } from '../errors/index.js';
import { completionFormatter } from './completion-response-format.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import {
  adjustmentsFrom,
  checkModel,
  checkN,
  checkPromptCount,
  checkSessionBudget,
  choiceJobs,
  refuseUnfittablePrompt,
  resolveMaxTokens,
  samplingFrom,
  stopsFrom,
} from './generation-plan.js';
import { parseJsonBody } from './parse-json-body.js';
import { completionRequestSchema, type CompletionRequestBody } from './schemas/completion-request.js';
import { serveGeneration } from './serve-generation.js';

/** OpenAI's legacy default completion length. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

/** How many prompts (each its own `n` sessions) a `prompt` value holds: a token array is one. */
function promptCount(prompt: CompletionRequestBody['prompt']): number {
  if (typeof prompt === 'string') return 1;
  return prompt.every((p) => typeof p === 'number') ? 1 : prompt.length;
}

/** Every accepted prompt form -> token arrays (strings get BOS, token arrays are used as given). */
function promptTokenArrays(prompt: CompletionRequestBody['prompt'], ctx: GatewayContext): number[][] {
  const info = ctx.backend.modelInfo;
  const tokenizer = info.tokenizer;
  const param = (i: number) => (Array.isArray(prompt) && prompt.length > 1 ? `prompt[${i}]` : 'prompt');
  const encode = (text: string, i: number) => {
    refuseUnfittablePrompt(text, info, param(i));
    return tokenizer.encode(text, { addBos: true });
  };
  let prompts: number[][];
  if (typeof prompt === 'string') prompts = [encode(prompt, 0)];
  else if (prompt.every((p): p is string => typeof p === 'string')) prompts = prompt.map(encode);
  else if (prompt.every((p): p is number => typeof p === 'number')) prompts = [prompt];
  else prompts = prompt as number[][];
  prompts.forEach((tokens, i) => {
    const bad = tokens.find((id) => id >= tokenizer.vocabSize);
    if (bad !== undefined) {
      throw new InvalidRequestError(`Token id ${bad} in 'prompt' is outside this model's vocabulary (0..${tokenizer.vocabSize - 1}).`, {
        param: prompts.length > 1 ? `prompt[${i}]` : 'prompt',
      });
    }
  });
  return prompts;
}

export function completionsHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, completionRequestSchema);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    if (body.echo === true) throw new UnsupportedParameterError('echo', "'echo' is not supported by this gateway.");
    if (body.suffix !== null && body.suffix !== undefined) {
      throw new UnsupportedParameterError('suffix', "'suffix' (fill-in-the-middle) is not supported by this gateway.");
    }
    if (body.best_of !== null && body.best_of !== undefined && body.best_of > 1) {
      throw new UnsupportedParameterError('best_of', "'best_of' greater than 1 is not supported by this gateway.");
    }
    if (body.stream_options && body.stream !== true) {
      throw new InvalidRequestError("'stream_options' is only allowed when 'stream' is true.", { param: 'stream_options' });
    }
    const n = checkN(body.n, ctx.options.maxN);
    // Before any tokenizing: the list length multiplies the sessions this request opens.
    const count = promptCount(body.prompt);
    checkPromptCount(count, ctx.options.maxPrompts);
    checkSessionBudget(n, count, ctx.options.maxConcurrent);
    const prompts = promptTokenArrays(body.prompt, ctx);
    const maxTokens = prompts.map((tokens) =>
      resolveMaxTokens({
        requested: body.max_tokens,
        requestedParam: 'max_tokens',
        promptTokens: tokens.length,
        promptParam: 'prompt',
        maxContext: info.maxContext,
        fallback: LEGACY_DEFAULT_MAX_TOKENS,
      }),
    );
    const logprobs = body.logprobs !== null && body.logprobs !== undefined;
    const includeUsage = body.stream_options?.include_usage === true;
    return serveGeneration(c, ctx, {
      jobs: choiceJobs({
        prompts,
        maxTokens,
        n,
        sampling: samplingFrom(body),
        adjustments: adjustmentsFrom(body, info.tokenizer.vocabSize),
        topLogprobs: logprobs ? (body.logprobs ?? 0) : undefined,
      }),
      stops: stopsFrom(body.stop),
      stream: body.stream === true,
      includeUsage,
      promptTokenCount: prompts.reduce((sum, p) => sum + p.length, 0),
      formatter: completionFormatter({ model: info.id, tokenizer: info.tokenizer, logprobs, includeUsage }),
    });
  };
}
