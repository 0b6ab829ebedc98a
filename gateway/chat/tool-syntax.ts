/**
 * How a model writes tool calls, and how the gateway turns that text into OpenAI `tool_calls`.
 * Two families, chosen from the model's chat template:
 * - `hermes` (Qwen2/2.5/3, Hermes, many others; the template mentions `<tool_call>`): each call
 *   is `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`; the template renders
 *   `tools`, earlier `tool_calls` and `tool` results itself.
 * - `json` (Llama 3.x and templates that know no tool syntax): the whole reply is one JSON
 *   object `{"name": ..., "parameters": {...}}` (Llama 3.1's convention). When the template does
 *   not render `tools`, the gateway describes them in a system message (`toolSystemPrompt`) and
 *   writes earlier calls into the assistant's content, so the model still sees the history.
 */
import type { TemplateMessage } from './chat-template.js';

export type ToolSyntaxName = 'hermes' | 'json';

export interface FunctionTool {
  name: string;
  description?: string | undefined;
  parameters?: Record<string, unknown> | undefined;
}

export interface ParsedToolCall {
  name: string;
  /** JSON text of the arguments object (what OpenAI sends in `function.arguments`). */
  arguments: string;
}

export interface ParsedReply {
  content: string;
  calls: ParsedToolCall[];
}

export const HERMES_OPEN = '<tool_call>';
export const HERMES_CLOSE = '</tool_call>';

export class ToolSyntax {
  readonly name: ToolSyntaxName;
  /** Whether the template itself renders `tools` (else the gateway adds a system message). */
  readonly templateRendersTools: boolean;

  constructor(templateSource: string | undefined) {
    const source = templateSource ?? '';
    this.name = source.includes(HERMES_OPEN) ? 'hermes' : 'json';
    this.templateRendersTools = /\btools\b/.test(source);
  }

  /** The key the arguments object sits under in a call. */
  get argumentsKey(): 'arguments' | 'parameters' {
    return this.name === 'hermes' ? 'arguments' : 'parameters';
  }

  /** The JSON Schema of one call of `tool` (name fixed, arguments by the tool's schema). */
  callSchema(tool: FunctionTool): Record<string, unknown> {
    return {
      type: 'object',
      properties: { name: { const: tool.name }, [this.argumentsKey]: tool.parameters ?? { type: 'object' } },
      required: ['name', this.argumentsKey],
      additionalProperties: false,
    };
  }

  /**
   * Messages as the template should see them: when the template does not render tools, a
   * system message describing them (merged into the first system message), and earlier calls
   * written into the assistant's content in this syntax.
   */
  prepare(messages: readonly TemplateMessage[], tools: readonly FunctionTool[]): TemplateMessage[] {
    if (this.templateRendersTools) return [...messages];
    const out = messages.map((m): TemplateMessage => {
      if (m.role !== 'assistant' || !m.tool_calls || m.tool_calls.length === 0) return m;
      const calls = (m.tool_calls as { function: { name: string; arguments: string } }[]).map((c) => this.format({ name: c.function.name, arguments: c.function.arguments }));
      const { tool_calls: _dropped, ...rest } = m;
      return { ...rest, content: [m.content, ...calls].filter((s) => s !== '').join('\n') };
    });
    if (tools.length === 0) return out;
    const prompt = toolSystemPrompt(tools, this);
    const first = out[0];
    if (first?.role === 'system') return [{ ...first, content: `${first.content}\n\n${prompt}` }, ...out.slice(1)];
    return [{ role: 'system', content: prompt }, ...out];
  }

  /** One call as the model writes it. */
  format(call: ParsedToolCall): string {
    const args = safeJson(call.arguments) ?? {};
    const body = JSON.stringify({ name: call.name, [this.argumentsKey]: args });
    return this.name === 'hermes' ? `${HERMES_OPEN}\n${body}\n${HERMES_CLOSE}` : body;
  }

  /** Splits a finished reply into content and calls (text that is not a well-formed call stays content). */
  parse(text: string): ParsedReply {
    if (this.name === 'hermes') {
      const calls: ParsedToolCall[] = [];
      let content = '';
      let last = 0;
      const pattern = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g;
      for (const match of text.matchAll(pattern)) {
        const call = this.callFrom(match[1]!);
        if (!call) continue;
        content += text.slice(last, match.index);
        last = match.index + match[0].length;
        calls.push(call);
      }
      content += text.slice(last);
      return { content: calls.length > 0 ? content.trim() : text, calls };
    }
    const call = this.callFrom(text.trim());
    return call ? { content: '', calls: [call] } : { content: text, calls: [] };
  }

  private callFrom(json: string): ParsedToolCall | undefined {
    const value = safeJson(json);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { name } = value as { name?: unknown };
    const args = (value as Record<string, unknown>)['arguments'] ?? (value as Record<string, unknown>)['parameters'];
    if (typeof name !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
    return { name, arguments: JSON.stringify(args) };
  }
}

/** The system text that describes tools to a template that does not render them. */
export function toolSystemPrompt(tools: readonly FunctionTool[], syntax: ToolSyntax): string {
  const list = tools.map((t) => JSON.stringify({ type: 'function', function: t })).join('\n');
  const example = syntax.format({ name: '<function-name>', arguments: '{}' }).replace('{}', '<arguments-json-object>');
  return `You can call these functions:\n${list}\n\nTo call one, reply with only: ${example}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
