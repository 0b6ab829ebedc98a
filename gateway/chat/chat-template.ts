/**
 * Chat templates: a conversation becomes one prompt string, then tokens. Models that ship a
 * Jinja template (Hugging Face `tokenizer_config.json` `chat_template`) are rendered with
 * @huggingface/jinja exactly as transformers would (`messages`, `add_generation_prompt`,
 * `bos_token`, `eos_token`; `raise_exception` is jinja's built-in). Base models without one (llama2.c checkpoints
 * such as stories260K) use `PLAIN_CHAT_TEMPLATE`.
 */
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
}

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
  render(messages: readonly TemplateMessage[]): string {
    try {
      return this.template.render({
        messages,
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
  encode(messages: readonly TemplateMessage[], options: { beforeTokenizing?: (text: string) => void } = {}): number[] {
    let text = this.render(messages);
    if (this.bosText !== '' && text.startsWith(this.bosText)) text = text.slice(this.bosText.length);
    // e.g. refusing a prompt too long to fit from its byte length, before paying to tokenize it.
    options.beforeTokenizing?.(text);
    return this.tokenizer.encode(text, { addBos: true });
  }
}
