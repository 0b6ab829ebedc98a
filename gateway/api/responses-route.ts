/**
 * `POST /v1/responses`: the Responses API over the same generation path as chat completions.
 * `instructions` and `input` items become a chat conversation (function calls and their
 * outputs as assistant `tool_calls` and `tool` messages), rendered by the model's template;
 * tools, tool choice and `text.format` go through the same output plan (constrained decoding
 * on the user's side); the reply is shaped as `output` items and Responses stream events.
 * Stateless: `store` must be false or absent, so `previous_response_id` is not accepted.
 */
import type { Context } from 'hono';
import { toTemplateMessages } from './chat-messages.js';
import { planChatOutput } from './chat-output-plan.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import { adjustmentsFrom, checkModel, choiceJobs, resolveMaxTokens, samplingFrom } from './generation-plan.js';
import { parseJsonBody } from './parse-json-body.js';
import { responsesFormatter } from './responses-format.js';
import type { ChatMessageBody, ChatToolBody, ResponseFormatBody, ToolChoiceBody } from './schemas/chat-completion-request.js';
import { responsesRequestSchema, type ResponsesRequestBody } from './schemas/responses-request.js';
import { serveGeneration } from './serve-generation.js';

type TextPart = { type: 'input_text' | 'output_text'; text: string } | { type: 'refusal'; refusal: string };

function partsText(content: string | readonly TextPart[]): string {
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'refusal' ? p.refusal : p.text)).join('\n');
}

/** `instructions` + `input` -> chat messages (consecutive function calls join one assistant turn). */
export function responsesMessages(body: ResponsesRequestBody): ChatMessageBody[] {
  const messages: ChatMessageBody[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') {
    messages.push({ role: 'user', content: body.input });
    return messages;
  }
  for (const item of body.input) {
    if (item.type === 'reasoning') continue;
    if (item.type === 'function_call') {
      const call = { id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
      const last = messages.at(-1);
      if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      continue;
    }
    if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : item.output.map((p) => p.text).join('\n') });
      continue;
    }
    const text = partsText(item.content as string | TextPart[]);
    messages.push(item.role === 'assistant' ? { role: 'assistant', content: text } : { role: item.role, content: text });
  }
  return messages;
}

export function responsesHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, responsesRequestSchema);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    const tools: ChatToolBody[] | undefined = body.tools?.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
      },
    }));
    const toolChoice: ToolChoiceBody | undefined =
      body.tool_choice === undefined ? undefined : typeof body.tool_choice === 'string' ? body.tool_choice : { type: 'function', function: { name: body.tool_choice.name } };
    const format = body.text?.format;
    const responseFormat: ResponseFormatBody | undefined =
      format === undefined || format.type !== 'json_schema'
        ? format
        : { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict === undefined ? {} : { strict: format.strict }) } };
    const output = planChatOutput({
      messages: toTemplateMessages(responsesMessages(body)),
      tools,
      toolChoice,
      responseFormat,
      tokenizer: info.tokenizer,
      templateSource: info.chatTemplate,
    });
    const promptTokens = ctx.template.encode(output.messages, output.templateTools ? { tools: output.templateTools } : {});
    const maxTokens = resolveMaxTokens({
      requested: body.max_output_tokens,
      requestedParam: 'max_output_tokens',
      promptTokens: promptTokens.length,
      promptParam: 'input',
      maxContext: info.maxContext,
    });
    return serveGeneration(c, ctx, {
      jobs: choiceJobs({
        prompts: [promptTokens],
        maxTokens: [maxTokens],
        n: 1,
        sampling: samplingFrom(body),
        adjustments: adjustmentsFrom(body, info.tokenizer.vocabSize),
        topLogprobs: undefined,
        constraint: output.constraint,
      }),
      stops: [],
      stream: body.stream === true,
      includeUsage: false,
      promptTokenCount: promptTokens.length,
      formatter: responsesFormatter({
        promptTokens: promptTokens.length,
        ...(output.toolSyntax ? { tools: output.toolSyntax } : {}),
        echo: {
          instructions: body.instructions ?? null,
          max_output_tokens: body.max_output_tokens ?? null,
          model: info.id,
          parallel_tool_calls: body.parallel_tool_calls ?? true,
          temperature: body.temperature ?? 1,
          text: { format: (format as Record<string, unknown> | undefined) ?? { type: 'text' } },
          tool_choice: body.tool_choice ?? 'auto',
          tools: body.tools ?? [],
          top_p: body.top_p ?? 1,
          truncation: body.truncation ?? 'disabled',
          user: body.user ?? null,
          metadata: body.metadata ?? {},
        },
      }),
    });
  };
}
