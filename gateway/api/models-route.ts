/** `GET /v1/models` and `GET /v1/models/{model}`. */
import type { Context } from 'hono';
import { NotFoundError } from '../errors/index.js';
import type { ModelInfo } from '../pipeline/generation-backend.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import type { Model, ModelList } from './wire-types.js';

const OWNED_BY = 'permllm';

function modelObject(info: ModelInfo, id = info.id): Model {
  return { id, object: 'model', created: info.created, owned_by: OWNED_BY, context_length: info.maxContext };
}

export function listModelsHandler(ctx: GatewayContext) {
  return (c: Context<GatewayEnv>): Response => {
    const info = ctx.backend.modelInfo;
    // Aliases are listed too: some clients check the list for the name they will send.
    const list: ModelList = { object: 'list', data: [info.id, ...ctx.options.modelAliases].map((id) => modelObject(info, id)) };
    return c.json(list);
  };
}

export function retrieveModelHandler(ctx: GatewayContext) {
  return (c: Context<GatewayEnv>): Response => {
    const id = decodeURIComponent(c.req.param('model') ?? '');
    const info = ctx.backend.modelInfo;
    if (id !== info.id && !ctx.options.modelAliases.includes(id)) {
      throw new NotFoundError(`The model '${id}' does not exist; this gateway serves '${info.id}'.`, {
        code: 'model_not_found',
        param: 'model',
      });
    }
    return c.json(modelObject(info, id));
  };
}
