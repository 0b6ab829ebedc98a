/**
 * Responses API objects and stream events (`/v1/responses`), in OpenAI's shapes: a `response`
 * with `output` items (an assistant `message` with `output_text`, and `function_call` items),
 * and the event sequence OpenAI streams (`response.created`, `response.output_item.added`,
 * `response.output_text.delta`, ..., `response.completed` or `response.incomplete`), each
 * with its `sequence_number`.
 */
import { randomBytes } from 'node:crypto';
import type { ParsedToolCall, ToolSyntax } from '../chat/index.js';
import type { ResponseFormatter } from './response-formatter.js';
import { responseId, unixNow } from './response-ids.js';
import { ToolCallStream, type ToolStreamEvent } from './tool-call-stream.js';
import type { CompletionUsage } from './wire-types.js';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}
export type OutputItem =
  | { type: 'message'; id: string; status: 'in_progress' | 'completed' | 'incomplete'; role: 'assistant'; content: OutputText[] }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'in_progress' | 'completed' };

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: 'in_progress' | 'completed' | 'incomplete';
  error: null;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: null;
  reasoning: { effort: null; summary: null };
  store: false;
  temperature: number;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number;
  truncation: 'disabled' | 'auto';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

export type ResponseEvent = { type: string; sequence_number: number } & Record<string, unknown>;

/** What the response echoes of its request. */
export type ResponseEcho = Pick<ResponseObject, 'instructions' | 'max_output_tokens' | 'model' | 'parallel_tool_calls' | 'temperature' | 'text' | 'tool_choice' | 'tools' | 'top_p' | 'truncation' | 'user' | 'metadata'>;

const callId = (): string => `call_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24)}`;

export function responsesFormatter(options: {
  echo: ResponseEcho;
  promptTokens: number;
  tools?: ToolSyntax;
}): ResponseFormatter<ResponseObject, ResponseEvent> {
  const id = responseId('resp');
  const created = unixNow();
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>): ResponseEvent => ({ type, sequence_number: sequence++, ...fields });
  const usageOf = (outputTokens: number): ResponseUsage => ({
    input_tokens: options.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: options.promptTokens + outputTokens,
  });
  const response = (status: ResponseObject['status'], output: OutputItem[], usage: ResponseUsage | null): ResponseObject => ({
    id,
    object: 'response',
    created_at: created,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    ...options.echo,
    output,
    usage,
  });
  const messageItem = (text: string, status: 'completed' | 'incomplete' | 'in_progress', itemId = responseId('msg')): OutputItem => ({
    type: 'message',
    id: itemId,
    status,
    role: 'assistant',
    content: status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  });
  const callItem = (call: ParsedToolCall, status: 'completed' | 'in_progress', itemId = responseId('fc'), cid = callId()): OutputItem => ({
    type: 'function_call',
    id: itemId,
    call_id: cid,
    name: call.name,
    arguments: status === 'completed' ? call.arguments : '',
    status,
  });

  // Streaming state (one choice).
  const output: OutputItem[] = [];
  let open: { id: string; text: string; index: number } | undefined;
  const parser = options.tools ? new ToolCallStream(options.tools) : undefined;

  const closeMessage = (out: ResponseEvent[], status: 'completed' | 'incomplete') => {
    if (!open) return;
    const item = messageItem(open.text, status, open.id);
    const part = { type: 'output_text', text: open.text, annotations: [] };
    out.push(event('response.output_text.done', { item_id: open.id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] }));
    out.push(event('response.content_part.done', { item_id: open.id, output_index: open.index, content_index: 0, part }));
    out.push(event('response.output_item.done', { output_index: open.index, item }));
    output.push(item);
    open = undefined;
  };
  const streamEvents = (events: readonly ToolStreamEvent[]): ResponseEvent[] => {
    const out: ResponseEvent[] = [];
    for (const e of events) {
      if (e.type === 'content') {
        if (!open) {
          open = { id: responseId('msg'), text: '', index: output.length };
          out.push(event('response.output_item.added', { output_index: open.index, item: messageItem('', 'in_progress', open.id) }));
          out.push(event('response.content_part.added', { item_id: open.id, output_index: open.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }));
        }
        open.text += e.text;
        out.push(event('response.output_text.delta', { item_id: open.id, output_index: open.index, content_index: 0, delta: e.text, logprobs: [] }));
      } else {
        closeMessage(out, 'completed');
        const index = output.length;
        const added = callItem(e.call, 'in_progress');
        const done = { ...added, arguments: e.call.arguments, status: 'completed' as const };
        out.push(event('response.output_item.added', { output_index: index, item: added }));
        out.push(event('response.function_call_arguments.delta', { item_id: added.id, output_index: index, delta: e.call.arguments }));
        out.push(event('response.function_call_arguments.done', { item_id: added.id, output_index: index, name: e.call.name, arguments: e.call.arguments }));
        out.push(event('response.output_item.done', { output_index: index, item: done }));
        output.push(done);
      }
    }
    return out;
  };

  return {
    streamStart: () => [
      event('response.created', { response: response('in_progress', [], null) }),
      event('response.in_progress', { response: response('in_progress', [], null) }),
    ],
    textChunks: (u) => streamEvents(parser ? parser.push(u.text) : u.text === '' ? [] : [{ type: 'content', text: u.text }]),
    finishChunks: (u) => {
      const out = parser ? streamEvents(parser.flush()) : [];
      const status = u.reason === 'length' ? 'incomplete' : 'completed';
      closeMessage(out, status);
      out.push(event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: response(status, output, usageOf(u.completionTokens)) }));
      return out;
    },
    usageChunk: (usage: CompletionUsage) => event('response.usage', { usage: usageOf(usage.completion_tokens) }),
    complete: (choices, usage) => {
      const choice = choices[0]!;
      const parsed = options.tools ? options.tools.parse(choice.text) : { content: choice.text, calls: [] };
      const status = choice.finishReason === 'length' ? 'incomplete' : 'completed';
      const items: OutputItem[] = [];
      if (parsed.content !== '' || parsed.calls.length === 0) items.push(messageItem(parsed.content, status));
      for (const call of parsed.calls) items.push(callItem(call, 'completed'));
      return response(status, items, usageOf(usage.completion_tokens));
    },
  };
}
