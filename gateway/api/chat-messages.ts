/**
 * OpenAI chat messages -> the chat template's messages. Content arrays are flattened to text
 * (parts joined with "\n"); `developer` is presented to templates as `system` (what OpenAI
 * does for models that predate the developer role).
 */
import type { TemplateMessage } from '../chat/index.js';
import { UnsupportedParameterError } from '../errors/index.js';
import type { ChatMessageBody } from './schemas/chat-completion-request.js';

const ACCEPTED_PART_TYPES: Record<string, readonly string[]> = {
  assistant: ['text', 'refusal'],
};

/**
 * Runs on the raw JSON before schema validation, so that an image, audio or file part is
 * reported as unsupported at its exact position (`messages[i].content[j]`) rather than as a
 * generic shape mismatch.
 */
export function rejectNonTextParts(raw: unknown): void {
  const messages = (raw as { messages?: unknown }).messages;
  if (!Array.isArray(messages)) return;
  messages.forEach((message: unknown, i) => {
    if (typeof message !== 'object' || message === null) return;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (!Array.isArray(content)) return;
    const accepted = ACCEPTED_PART_TYPES[String(role)] ?? ['text'];
    content.forEach((part: unknown, j) => {
      const type = typeof part === 'object' && part !== null ? (part as { type?: unknown }).type : undefined;
      if (typeof type === 'string' && !accepted.includes(type)) {
        throw new UnsupportedParameterError(
          `messages[${i}].content[${j}]`,
          `Content part type '${type}' in messages[${i}].content[${j}] is not supported: this gateway serves a text-only model (accepted: ${accepted.join(', ')}).`,
        );
      }
    });
  });
}

function flatten(content: ChatMessageBody['content']): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : part.refusal)).join('\n');
}

export function toTemplateMessages(messages: readonly ChatMessageBody[]): TemplateMessage[] {
  return messages.map((message): TemplateMessage => {
    const content = flatten(message.content);
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content, ...(message.name === undefined ? {} : { name: message.name }) };
      case 'user':
        return { role: 'user', content, ...(message.name === undefined ? {} : { name: message.name }) };
      case 'assistant': {
        // Echo-safe: null tool_calls / function_call, annotations and audio are history noise.
        const calls = [...(message.tool_calls ?? [])];
        if (message.function_call) calls.push({ id: 'call_legacy', type: 'function', function: message.function_call });
        return {
          role: 'assistant',
          content,
          ...(message.name === undefined ? {} : { name: message.name }),
          ...(calls.length === 0 ? {} : { tool_calls: calls }),
          ...(typeof message.reasoning_content === 'string' ? { reasoning_content: message.reasoning_content } : {}),
        };
      }
      case 'tool':
        return { role: 'tool', content, tool_call_id: message.tool_call_id };
    }
  });
}
