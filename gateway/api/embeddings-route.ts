/**
 * `POST /v1/embeddings`. Every input is one embedding session on the backend (on the private
 * backend: the engine never sees the tokens, and only the pooled vector is opened, to this
 * gateway; gateway/private/private-embedding.ts). The inputs of a request run one after the
 * other and hold one unit of the session budget.
 *
 * The vector is the mean over the input's positions of the model's final hidden state (after the
 * final norm, γ applied), L2-normalised as OpenAI's embeddings are. `dimensions` keeps the first
 * `dimensions` values and normalises again (what OpenAI does for its text-embedding-3 models);
 * more than the model's width is 400.
 */
import type { Context } from 'hono';
import { ContextLengthExceededError, InvalidRequestError, NotFoundError } from '../errors/index.js';
import type { GenerationBackend, ProtocolStats } from '../pipeline/generation-backend.js';
import { sumProtocolStats } from './protocol-stats.js';
import { RequestAbortedError } from './choice-runner.js';
import type { GatewayContext, GatewayEnv } from './gateway-context.js';
import { minimumTokenCount } from '../../model/tokenizer.js';
import { checkModel } from './generation-plan.js';
import { parseJsonBody } from './parse-json-body.js';
import { openBackendRequest } from './request-gate.js';
import { embeddingsRequestSchema, type EmbeddingsRequestBody } from './schemas/embeddings-request.js';

/** OpenAI's limit on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;

type Embed = NonNullable<GenerationBackend['embed']>;

/** Every accepted `input` form → token arrays (strings get BOS; token arrays are used as given). */
function inputTokenArrays(input: EmbeddingsRequestBody['input'], ctx: GatewayContext): number[][] {
  const info = ctx.backend.modelInfo;
  const { tokenizer } = info;
  const list = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number';
  const param = (i: number) => (list ? `input[${i}]` : 'input');
  let inputs: (string | number[])[];
  if (typeof input === 'string') inputs = [input];
  else if (input.every((p): p is number => typeof p === 'number')) inputs = [input];
  else inputs = input as (string | number[])[];
  if (inputs.length === 0) throw new InvalidRequestError("'input' must not be empty.", { param: 'input' });
  if (inputs.length > MAX_EMBEDDING_INPUTS) throw new InvalidRequestError(`'input' holds ${inputs.length} inputs; at most ${MAX_EMBEDDING_INPUTS} per request.`, { param: 'input' });
  return inputs.map((item, i) => {
    if (item.length === 0) throw new InvalidRequestError(`'${param(i)}' must not be empty.`, { param: param(i) });
    let tokens: number[];
    if (typeof item === 'string') {
      // From the byte length first: a huge input is refused before it is tokenized.
      const least = minimumTokenCount(tokenizer, item);
      if (least > info.maxContext) {
        throw new ContextLengthExceededError(`This model's maximum context length is ${info.maxContext} tokens, but '${param(i)}' (${Buffer.byteLength(item, 'utf8')} bytes) needs at least ${least} tokens.`, param(i));
      }
      tokens = tokenizer.encode(item, { addBos: true });
    } else {
      const bad = item.find((id) => id >= tokenizer.vocabSize);
      if (bad !== undefined) throw new InvalidRequestError(`Token id ${bad} in '${param(i)}' is outside this model's vocabulary (0..${tokenizer.vocabSize - 1}).`, { param: param(i) });
      tokens = item;
    }
    if (tokens.length > info.maxContext) {
      throw new ContextLengthExceededError(`This model's maximum context length is ${info.maxContext} tokens, but '${param(i)}' has ${tokens.length} tokens.`, param(i));
    }
    return tokens;
  });
}

/** L2-normalised copy of the first `dimensions` values (float32, as OpenAI returns them). */
export function normalizedEmbedding(vector: Float64Array, dimensions: number): Float32Array {
  const out = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += vector[i]! * vector[i]!;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) out[i] = vector[i]! * inv;
  return out;
}

function encode(vector: Float32Array, format: 'float' | 'base64'): number[] | string {
  if (format === 'float') return Array.from(vector);
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

export function embeddingsHandler(ctx: GatewayContext) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const body = await parseJsonBody(c, embeddingsRequestSchema);
    const info = ctx.backend.modelInfo;
    checkModel(body.model, info, ctx.options.modelAliases);
    const embed: Embed | undefined = ctx.backend.embed?.bind(ctx.backend);
    if (!embed) throw new NotFoundError('This gateway\'s backend does not serve embeddings.', { code: 'unknown_url' });
    const inputs = inputTokenArrays(body.input, ctx);
    const format = body.encoding_format ?? 'float';
    const promptTokens = inputs.reduce((n, t) => n + t.length, 0);
    const { metrics } = ctx;
    const labels = metrics.labels;
    const access = c.get('access');
    const { endedBy } = openBackendRequest(c, ctx, { choices: inputs.length, promptTokens });
    const clientSignal = c.get('clientSignal');
    const signal = AbortSignal.any([clientSignal, ctx.shutdown.signal]);
    let release: () => void;
    try {
      release = await ctx.admission.acquire(signal, 1);
    } catch (error) {
      return endedBy(error, clientSignal);
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(clientSignal.aborted ? new RequestAbortedError('client disconnected') : ctx.shutdown.signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      const data: { object: 'embedding'; index: number; embedding: number[] | string }[] = [];
      const costs: ProtocolStats[] = [];
      for (const [index, tokens] of inputs.entries()) {
        const { embedding, stats } = await embed({ tokens, signal: controller.signal });
        if (stats) costs.push(stats);
        const dimensions = body.dimensions ?? embedding.length;
        if (dimensions > embedding.length) {
          throw new InvalidRequestError(`'dimensions' is ${dimensions}, but this model's embeddings have ${embedding.length} values.`, { param: 'dimensions' });
        }
        data.push({ object: 'embedding', index, embedding: encode(normalizedEmbedding(embedding, dimensions), format) });
        metrics.promptTokens.inc(labels, tokens.length);
      }
      access.set({ outcome: 'ok' });
      const summed = sumProtocolStats(costs);
      return c.json({ object: 'list', data, model: info.id, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }, 200, summed === undefined ? {} : { 'x-permllm-stats': JSON.stringify(summed) });
    } catch (error) {
      return endedBy(error, clientSignal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      release();
    }
  };
}
