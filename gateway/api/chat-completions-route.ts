/** `POST /v1/chat/completions`. */
import type { Context } from 'hono';
import { InvalidRequestError } from '../errors/index.js';
import { planChatOutput } from './chat-output-plan.js';
import { chatFormatter } from './chat-response-format.js';
import { rejectNonTextParts, toTemplateMessages } from './chat-messages.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import {
  adjustmentsFrom,
  checkModel,
  checkN,
  checkSessionBudget,
  choiceJobs,
  refuseUnfittablePrompt,
  resolveMaxTokens,
  samplingFrom,
  stopsFrom,
} from './generation-plan.js';
import { parseJsonBody } from './parse-json-body.js';
import { chatCompletionRequestSchema } from './schemas/chat-completion-request.js';
import { serveGeneration } from './serve-generation.js';

export function chatCompletionsHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, chatCompletionRequestSchema, rejectNonTextParts);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    if (body.top_logprobs !== null && body.top_logprobs !== undefined && body.logprobs !== true) {
      throw new InvalidRequestError("'top_logprobs' requires 'logprobs' to be true.", { param: 'top_logprobs' });
    }
    if (body.stream_options && body.stream !== true) {
      throw new InvalidRequestError("'stream_options' is only allowed when 'stream' is true.", { param: 'stream_options' });
    }
    const n = checkN(body.n, ctx.options.maxN);
    checkSessionBudget(n, 1, ctx.options.maxConcurrent);
    const output = planChatOutput({
      messages: toTemplateMessages(body.messages),
      tools: body.tools,
      toolChoice: body.tool_choice,
      responseFormat: body.response_format,
      tokenizer: info.tokenizer,
      templateSource: info.chatTemplate,
    });
    const promptTokens = ctx.template.encode(output.messages, {
      ...(output.templateTools ? { tools: output.templateTools } : {}),
      ...(body.chat_template_kwargs ? { kwargs: body.chat_template_kwargs } : {}),
      beforeTokenizing: (text) => refuseUnfittablePrompt(text, info, 'messages'),
    });
    const explicitCompletion = body.max_completion_tokens !== null && body.max_completion_tokens !== undefined;
    const maxTokens = resolveMaxTokens({
      // max_completion_tokens supersedes the deprecated max_tokens.
      requested: explicitCompletion ? body.max_completion_tokens : body.max_tokens,
      requestedParam: explicitCompletion ? 'max_completion_tokens' : 'max_tokens',
      promptTokens: promptTokens.length,
      promptParam: 'messages',
      maxContext: info.maxContext,
    });
    const logprobs = body.logprobs === true;
    return serveGeneration(c, ctx, {
      jobs: choiceJobs({
        prompts: [promptTokens],
        maxTokens: [maxTokens],
        n,
        sampling: samplingFrom(body),
        adjustments: adjustmentsFrom(body, info.tokenizer.vocabSize),
        topLogprobs: logprobs ? (body.top_logprobs ?? 0) : undefined,
        constraint: output.constraint,
      }),
      stops: stopsFrom(body.stop),
      stream: body.stream === true,
      includeUsage: body.stream_options?.include_usage === true,
      promptTokenCount: promptTokens.length,
      formatter: chatFormatter({
        model: info.id,
        tokenizer: info.tokenizer,
        logprobs,
        includeUsage: body.stream_options?.include_usage === true,
        ...(output.toolSyntax ? { tools: output.toolSyntax } : {}),
      }),
    });
  };
}
