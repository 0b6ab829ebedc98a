/**
 * `POST /tokenize` and `POST /detokenize`, as vLLM serves them: the gateway's own tokenizer
 * and chat template (special-token text in messages neutralised exactly as for chat
 * completions), so a client can count tokens against `max_model_len` before it asks.
 */
import type { Context } from 'hono';
import { InvalidRequestError } from '../errors/index.js';
import { toTemplateMessages } from './chat-messages.js';
import { planChatOutput } from './chat-output-plan.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import { checkModel } from './generation-plan.js';
import { parseJsonBody } from './parse-json-body.js';
import { detokenizeRequestSchema, tokenizeRequestSchema } from './schemas/tokenize-request.js';

export function tokenizeHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, tokenizeRequestSchema);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    let tokens: number[];
    if ('prompt' in body) {
      tokens = info.tokenizer.encode(body.prompt, { addBos: body.add_special_tokens ?? true });
    } else {
      const output = planChatOutput({
        messages: toTemplateMessages(body.messages),
        tools: body.tools,
        toolChoice: undefined,
        responseFormat: undefined,
        tokenizer: info.tokenizer,
        templateSource: info.chatTemplate,
      });
      tokens = ctx.template.encode(output.messages, {
        ...(output.templateTools ? { tools: output.templateTools } : {}),
        ...(body.chat_template_kwargs ? { kwargs: body.chat_template_kwargs } : {}),
      });
    }
    return c.json({ count: tokens.length, max_model_len: info.maxContext, tokens });
  };
}

export function detokenizeHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, detokenizeRequestSchema);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    const bad = body.tokens.findIndex((id) => id >= info.tokenizer.vocabSize);
    if (bad >= 0) {
      throw new InvalidRequestError(`Token id ${body.tokens[bad]} is outside this model's vocabulary (0..${info.tokenizer.vocabSize - 1}).`, { param: `tokens[${bad}]` });
    }
    return c.json({ prompt: info.tokenizer.decode(body.tokens) });
  };
}
