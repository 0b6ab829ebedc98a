/** `chat.completion` and `chat.completion.chunk` objects, exactly OpenAI's shapes. */
import { randomBytes } from 'node:crypto';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { ToolSyntax } from '../chat/index.js';
import type { ChoiceToken } from './choice-runner.js';
import type { ResponseFormatter } from './response-formatter.js';
import { ToolCallStream, type ToolStreamEvent } from './tool-call-stream.js';
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

type ChunkDelta = ChatCompletionChunk['choices'][number]['delta'];

export function chatFormatter(options: {
  model: string;
  tokenizer: Tokenizer;
  logprobs: boolean;
  includeUsage: boolean;
  /** Set when the reply may contain tool calls in this syntax (tools given, tool_choice not "none"). */
  tools?: ToolSyntax;
}): ResponseFormatter<ChatCompletion, ChatCompletionChunk> {
  const id = responseId('chatcmpl');
  const created = unixNow();
  const base = () => ({ id, object: 'chat.completion.chunk' as const, created, model: options.model });
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const usageNull = options.includeUsage ? { usage: null } : {};
  const chunkLogprobs = (tokens: readonly ChoiceToken[]) =>
    options.logprobs ? chatLogprobs(options.tokenizer, tokens) : null;
  const chunk = (index: number, delta: ChunkDelta, tokens: readonly ChoiceToken[] = []): ChatCompletionChunk => ({
    ...base(),
    choices: [{ index, delta, logprobs: tokens.length > 0 ? chunkLogprobs(tokens) : null, finish_reason: null }],
    ...usageNull,
  });

  // Per choice while streaming with tools: the call parser and the logprobs of held-back text.
  const streams = new Map<number, { parser: ToolCallStream; held: ChoiceToken[] }>();
  const streamOf = (index: number, syntax: ToolSyntax) => {
    let s = streams.get(index);
    if (!s) {
      s = { parser: new ToolCallStream(syntax), held: [] };
      streams.set(index, s);
    }
    return s;
  };
  const toolChunks = (index: number, events: readonly ToolStreamEvent[], s: { parser: ToolCallStream; held: ChoiceToken[] }) => {
    const out: ChatCompletionChunk[] = [];
    let callIndex = s.parser.callCount - events.filter((e) => e.type === 'call').length;
    for (const event of events) {
      const tokens = s.held.splice(0);
      if (event.type === 'content') {
        out.push(chunk(index, { content: event.text }, tokens));
      } else {
        // OpenAI's shape: id, type and name with empty arguments first, then the arguments.
        out.push(chunk(index, { tool_calls: [{ index: callIndex, id: toolCallId(), type: 'function', function: { name: event.call.name, arguments: '' } }] }, tokens));
        out.push(chunk(index, { tool_calls: [{ index: callIndex, function: { arguments: event.call.arguments } }] }));
        callIndex++;
      }
    }
    return out;
  };
  const finishReason = (reason: 'stop' | 'length', calls: number) => (calls > 0 && reason === 'stop' ? 'tool_calls' : reason);

  return {
    streamStart: (indices) =>
      indices.map((index) => ({
        ...base(),
        choices: [{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }],
        ...usageNull,
      })),
    textChunks: (u) => {
      if (!options.tools) return [chunk(u.index, { content: u.text }, u.tokens)];
      const s = streamOf(u.index, options.tools);
      s.held.push(...u.tokens);
      return toolChunks(u.index, s.parser.push(u.text), s);
    },
    finishChunks: (u) => {
      const out: ChatCompletionChunk[] = [];
      let calls = 0;
      if (options.tools) {
        const s = streamOf(u.index, options.tools);
        out.push(...toolChunks(u.index, s.parser.flush(), s));
        calls = s.parser.callCount;
      }
      out.push({
        ...base(),
        choices: [{ index: u.index, delta: {}, logprobs: null, finish_reason: finishReason(u.reason, calls) }],
        ...usageNull,
      });
      return out;
    },
    usageChunk: (usage) => ({ ...base(), choices: [], usage }),
    complete: (choices, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model: options.model,
      choices: choices.map((c) => {
        const parsed = options.tools ? options.tools.parse(c.text) : { content: c.text, calls: [] };
        const toolCalls = parsed.calls.map((call) => ({ id: toolCallId(), type: 'function' as const, function: call }));
        return {
          index: c.index,
          message: {
            role: 'assistant' as const,
            content: toolCalls.length > 0 && parsed.content === '' ? null : parsed.content,
            refusal: null,
            annotations: [],
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: options.logprobs ? chatLogprobs(options.tokenizer, c.tokens) : null,
          finish_reason: finishReason(c.finishReason, toolCalls.length),
        };
      }),
      usage,
    }),
  };
}

/** OpenAI-style tool call ids: `call_` and 24 random alphanumerics. */
function toolCallId(): string {
  return `call_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24)}`;
}
