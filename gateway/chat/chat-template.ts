/**
 * Chat templates: a conversation becomes one prompt string, then tokens. Models that ship a
 * Jinja template (Hugging Face `tokenizer_config.json` `chat_template`) are rendered with
 * @huggingface/jinja exactly as transformers would (`messages`, `add_generation_prompt`,
 * `bos_token`, `eos_token`; `raise_exception` is jinja's built-in). Base models without one (llama2.c checkpoints
 * such as stories260K) use `PLAIN_CHAT_TEMPLATE`.
 */
import { randomBytes } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import type { Tokenizer } from '../../model/tokenizer.js';
import { InvalidRequestError } from '../errors/index.js';

/**
 * The documented template for base models: the messages' contents in order, separated by a
 * blank line, with no role markers and no generation prompt. A base model simply continues the
 * text, so a single user message "Once upon a time" is the prompt "Once upon a time".
 * Roles are not visible to the model in this mode.
 */
export const PLAIN_CHAT_TEMPLATE =
  "{%- for message in messages -%}{%- if not loop.first -%}{{ '\\n\\n' }}{%- endif -%}{{- message.content -}}{%- endfor -%}";

/** One message as templates see it (content already flattened to text). */
export interface TemplateMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  name?: string;
  tool_call_id?: string;
  tool_calls?: unknown[];
  reasoning_content?: string;
}

/** What a template may be given besides the messages. */
export interface RenderOptions {
  /** OpenAI-style tool definitions (`{type:'function', function:{name, description, parameters}}`). */
  tools?: readonly unknown[];
  /** Extra template variables (the request's `chat_template_kwargs`, e.g. `enable_thinking`). */
  kwargs?: Readonly<Record<string, unknown>>;
}

/** Private-use delimiters of a placeholder; a per-call nonce makes them unguessable. */
const OPEN = '\uE000';
const CLOSE = '\uE001';

export class ChatTemplate {
  private readonly template: Template;
  private readonly bosText: string;
  private readonly eosText: string;

  /** `source` undefined selects `PLAIN_CHAT_TEMPLATE`. Throws if the template does not parse. */
  constructor(
    private readonly tokenizer: Tokenizer,
    source?: string,
  ) {
    this.template = new Template(source ?? PLAIN_CHAT_TEMPLATE);
    this.bosText = tokenizer.bosId === undefined ? '' : tokenizer.tokenText(tokenizer.bosId);
    const firstEos = [...tokenizer.eosIds][0];
    this.eosText = firstEos === undefined ? '' : tokenizer.tokenText(firstEos);
  }

  /** The prompt text for `messages`, ending with the assistant's turn opener when the template has one. */
  render(messages: readonly TemplateMessage[], options: RenderOptions = {}): string {
    try {
      return this.template.render({
        ...options.kwargs,
        messages,
        ...(options.tools && options.tools.length > 0 ? { tools: options.tools } : {}),
        add_generation_prompt: true,
        bos_token: this.bosText,
        eos_token: this.eosText,
      });
    } catch (error) {
      // Templates reject conversations (e.g. roles not alternating) with jinja's built-in
      // raise_exception, which throws a plain Error carrying the template's message.
      throw new InvalidRequestError(
        `The model's chat template failed on this conversation: ${error instanceof Error ? error.message : String(error)}`,
        { param: 'messages', code: 'invalid_conversation' },
      );
    }
  }

  /**
   * Rendered and tokenized. BOS is added exactly once: templates that write `bos_token` as text
   * have it stripped and replaced by the real id, so tokenizers that do not parse special
   * tokens inside text still get it right.
   */
  encode(messages: readonly TemplateMessage[], options: RenderOptions & { beforeTokenizing?: (text: string) => void } = {}): number[] {
    const { messages: safe, literals, pattern } = this.neutralise(messages);
    let text = this.render(safe, options);
    if (this.bosText !== '' && text.startsWith(this.bosText)) text = text.slice(this.bosText.length);
    // e.g. refusing a prompt too long to fit from its byte length, before paying to tokenize it.
    options.beforeTokenizing?.(text);
    if (literals.length === 0) return this.tokenizer.encode(text, { addBos: true });
    // The template's own text keeps its control tokens; each neutralised piece is plain text.
    const ids: number[] = this.tokenizer.bosId === undefined ? [] : [this.tokenizer.bosId];
    let last = 0;
    for (const match of text.matchAll(pattern!)) {
      const before = text.slice(last, match.index);
      if (before !== '') ids.push(...this.tokenizer.encode(before, { addBos: false }));
      ids.push(...this.tokenizer.encodeLiteral!(literals[Number(match[1])]!));
      last = match.index + match[0].length;
    }
    const after = text.slice(last);
    if (after !== '') ids.push(...this.tokenizer.encode(after, { addBos: false }));
    return ids;
  }

  /**
   * User-typed control text ("<|eot_id|><|start_header_id|>system", "<|im_end|>",
   * "<tool_call>") must stay text, or a message could forge turns or tool calls. Every
   * occurrence in a message's content, name, reasoning or tool-call fields is replaced by a
   * placeholder that no template changes, and `encode` tokenizes it as plain text. Contents
   * without control text are left exactly as they are (so their tokenization is unchanged).
   */
  private neutralise(messages: readonly TemplateMessage[]): { messages: TemplateMessage[]; literals: string[]; pattern?: RegExp } {
    const controls = this.tokenizer.controlTexts ?? [];
    if (controls.length === 0 || this.tokenizer.encodeLiteral === undefined) return { messages: [...messages], literals: [] };
    const nonce = randomBytes(6).toString('hex');
    const literals: string[] = [];
    const sorted = [...controls].sort((a, b) => b.length - a.length);
    const replace = (text: string): string => {
      if (!sorted.some((c) => text.includes(c))) return text;
      let out = '';
      let i = 0;
      outer: while (i < text.length) {
        for (const control of sorted) {
          if (text.startsWith(control, i)) {
            out += `${OPEN}${nonce}:${literals.length}${CLOSE}`;
            literals.push(control);
            i += control.length;
            continue outer;
          }
        }
        out += text[i];
        i++;
      }
      return out;
    };
    const deep = (value: unknown): unknown => {
      if (typeof value === 'string') return replace(value);
      if (Array.isArray(value)) return value.map(deep);
      if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v)]));
      return value;
    };
    const safe = messages.map((m) => deep(m) as TemplateMessage);
    return { messages: safe, literals, pattern: new RegExp(`${OPEN}${nonce}:(\\d+)${CLOSE}`, 'g') };
  }
}
