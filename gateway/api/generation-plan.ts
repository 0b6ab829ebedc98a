/**
 * The translation boundary: validated OpenAI request fields -> the backend's internal
 * `GenerationRequest`s (one per choice). Everything OpenAI-specific about sampling lives here:
 * defaults, the `seed + i` rule for n > 1, logit_bias key parsing, context-length checks.
 */
import {
  ContextLengthExceededError,
  InvalidRequestError,
  NotFoundError,
} from '../errors/index.js';
import { minimumTokenCount } from '../../model/tokenizer.js';
import type {
  GenerationRequest,
  LogitAdjustments,
  ModelInfo,
  SamplingParams,
} from '../pipeline/generation-backend.js';
import type { LogitConstraint } from '../../sampling/logit-adjustments.js';

/** The fields both request bodies share, after validation. */
export interface CommonRequestFields {
  model: string;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  min_p?: number | null | undefined;
  seed?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  n?: number | null | undefined;
  presence_penalty?: number | null | undefined;
  frequency_penalty?: number | null | undefined;
  logit_bias?: Record<string, number> | null | undefined;
}

/** One choice to generate: its OpenAI `index`, which prompt, and the backend request minus the signal. */
export interface ChoiceJob {
  index: number;
  promptIndex: number;
  request: Omit<GenerationRequest, 'signal'>;
}

/** The served model answers to its id and to every configured alias (e.g. `gpt-4o-mini` for apps that hard-code one). */
export function checkModel(model: string, info: ModelInfo, aliases: readonly string[] = []): void {
  if (model !== info.id && !aliases.includes(model)) {
    throw new NotFoundError(`The model '${model}' does not exist; this gateway serves '${info.id}'${aliases.length > 0 ? ` (also as ${aliases.map((a) => `'${a}'`).join(', ')})` : ''}.`, {
      code: 'model_not_found',
      param: 'model',
    });
  }
}

export function checkN(n: number | null | undefined, maxN: number): number {
  const value = n ?? 1;
  if (value > maxN) {
    throw new InvalidRequestError(`Invalid value for 'n': at most ${maxN} choices per request.`, { param: 'n' });
  }
  return value;
}

/**
 * The prompt list of `/v1/completions` is capped (`maxPrompts`): each element runs as its own
 * backend sessions, so the list length multiplies what one request costs the engine.
 */
export function checkPromptCount(count: number, maxPrompts: number): void {
  if (count > maxPrompts) {
    throw new InvalidRequestError(`Invalid value for 'prompt': at most ${maxPrompts} prompts per request, got ${count}.`, { param: 'prompt' });
  }
}

/**
 * Each choice of each prompt is one backend session, and a request holds all of its sessions
 * at once (admission-control.ts). A request needing more than the session budget could never
 * be admitted, so it is refused with 400 here rather than queued until it times out.
 */
export function checkSessionBudget(n: number, prompts: number, budget: number): void {
  const sessions = n * prompts;
  if (sessions > budget) {
    throw new InvalidRequestError(
      `This request needs ${sessions} backend sessions (n = ${n} × ${prompts} prompt${prompts === 1 ? '' : 's'}); this gateway runs at most ${budget} at once. Lower 'n'${prompts > 1 ? " or send fewer prompts per request" : ''}.`,
      { param: prompts > 1 ? 'prompt' : 'n' },
    );
  }
}

export function samplingFrom(body: CommonRequestFields): SamplingParams {
  return {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    minP: body.min_p ?? 0,
    ...(body.seed === null || body.seed === undefined ? {} : { seed: body.seed }),
  };
}

export function adjustmentsFrom(body: CommonRequestFields, vocabSize: number): LogitAdjustments {
  const out: LogitAdjustments = {};
  if (body.logit_bias) {
    const bias: Record<number, number> = {};
    for (const [key, value] of Object.entries(body.logit_bias)) {
      const id = /^\d+$/.test(key) ? Number(key) : Number.NaN;
      if (!Number.isSafeInteger(id) || id >= vocabSize) {
        throw new InvalidRequestError(
          `Invalid key in 'logit_bias': '${key}' is not a token id of this model (0..${vocabSize - 1}).`,
          { param: 'logit_bias' },
        );
      }
      bias[id] = value;
    }
    if (Object.keys(bias).length > 0) out.logitBias = bias;
  }
  if (body.presence_penalty) out.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty) out.frequencyPenalty = body.frequency_penalty;
  return out;
}

/** Stop strings as a list; empty strings are dropped (they would match before any text). */
export function stopsFrom(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0);
}

/**
 * Refuses a prompt text that cannot fit the context window, from its byte length alone (see
 * `Tokenizer.maxBytesPerToken`), so that a megabyte of text is turned away in microseconds
 * instead of being tokenized first. Prompts it lets through are checked exactly by
 * `resolveMaxTokens` once tokenized.
 */
export function refuseUnfittablePrompt(text: string, info: ModelInfo, param: string): void {
  const least = minimumTokenCount(info.tokenizer, text);
  if (least >= info.maxContext) {
    throw new ContextLengthExceededError(
      `This model's maximum context length is ${info.maxContext} tokens, but the prompt (${Buffer.byteLength(text, 'utf8')} bytes) needs at least ${least} tokens, which leaves no room for a completion.`,
      param,
    );
  }
}

/**
 * How many tokens a prompt may generate. Explicit requests that do not fit are refused (as
 * OpenAI does); without one the completion may use `fallback` tokens, clamped to the window.
 */
export function resolveMaxTokens(options: {
  requested: number | null | undefined;
  requestedParam: string;
  promptTokens: number;
  promptParam: string;
  maxContext: number;
  fallback?: number;
}): number {
  const { requested, promptTokens, maxContext } = options;
  if (promptTokens >= maxContext) {
    throw new ContextLengthExceededError(
      `This model's maximum context length is ${maxContext} tokens, but the prompt has ${promptTokens} tokens, which leaves no room for a completion.`,
      options.promptParam,
    );
  }
  const room = maxContext - promptTokens;
  if (requested !== null && requested !== undefined) {
    if (requested > room) {
      throw new ContextLengthExceededError(
        `This model's maximum context length is ${maxContext} tokens. However, you requested ${promptTokens + requested} tokens (${promptTokens} in the prompt, ${requested} for the completion). Reduce the prompt or '${options.requestedParam}'.`,
        options.requestedParam,
      );
    }
    return requested;
  }
  return Math.min(room, options.fallback ?? room);
}

/** n choices per prompt; choice `index` = promptIndex * n + i and, with a seed, samples with seed + index. */
export function choiceJobs(options: {
  prompts: readonly number[][];
  maxTokens: readonly number[];
  n: number;
  sampling: SamplingParams;
  adjustments: LogitAdjustments;
  topLogprobs: number | undefined;
  /** A fresh per-step constraint for one choice of at most `maxTokens` tokens (structured outputs, tool calls). */
  constraint?: ((maxTokens: number) => LogitConstraint) | undefined;
}): ChoiceJob[] {
  const jobs: ChoiceJob[] = [];
  options.prompts.forEach((promptTokens, promptIndex) => {
    for (let i = 0; i < options.n; i++) {
      const index = promptIndex * options.n + i;
      const { seed, ...rest } = options.sampling;
      const maxTokens = options.maxTokens[promptIndex] ?? 1;
      // One constraint per choice: it follows that choice's tokens.
      const adjustments = options.constraint ? { ...options.adjustments, constraint: options.constraint(maxTokens) } : options.adjustments;
      jobs.push({
        index,
        promptIndex,
        request: {
          promptTokens,
          maxTokens,
          sampling: seed === undefined ? rest : { ...rest, seed: seed + index },
          adjustments,
          ...(options.topLogprobs === undefined ? {} : { topLogprobs: options.topLogprobs }),
        },
      });
    }
  });
  return jobs;
}
