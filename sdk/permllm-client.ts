/**
 * A small typed client for the PermLLM gateway, built on the types generated from
 * openapi.yaml and the global fetch. It mirrors the official OpenAI SDK's shape
 * (`chat.completions.create`, `completions.create`, `models.list/retrieve`) and adds what
 * the gateway offers beyond OpenAI: the protocol cost of each request (`permllm` stats).
 *
 * ```ts
 * const client = new PermllmClient({ baseURL: 'http://127.0.0.1:8080/v1' });
 * const reply = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }] });
 * for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) { ... }
 * ```
 */
import { APIConnectionError, APIUserAbortError, apiErrorFor } from './api-error.js';
import { Stream } from './sse-stream.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  Completion,
  CompletionCreateParams,
  CompletionCreateParamsNonStreaming,
  CompletionCreateParamsStreaming,
  CreateEmbeddingResponse,
  EmbeddingCreateParams,
  ErrorResponse,
  Model,
  ModelList,
  PermllmStats,
  RequestOptions,
  ResponseCreateParams,
  ResponseCreateParamsNonStreaming,
  ResponseCreateParamsStreaming,
  ResponseObject,
  ResponseStreamEvent,
  TokenizeParams,
  TokenizeResult,
  WithStats,
} from './types.js';

export interface PermllmClientOptions {
  /** The gateway's OpenAI base URL, e.g. `http://127.0.0.1:8080/v1`. */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** A JSON body with the protocol cost from the `x-permllm-stats` header when sent. */
async function withStats<T extends object>(response: Response): Promise<WithStats<T>> {
  const body = (await response.json()) as WithStats<T>;
  const header = response.headers.get('x-permllm-stats');
  if (header) body.permllm = JSON.parse(header) as PermllmStats;
  return body;
}

export class PermllmClient {
  private readonly baseURL: string;
  private readonly fetchImpl: typeof fetch;

  readonly chat: {
    completions: {
      create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
      create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<WithStats<ChatCompletion>>;
      create(
        params: ChatCompletionCreateParams,
        options?: RequestOptions,
      ): Promise<Stream<ChatCompletionChunk> | WithStats<ChatCompletion>>;
    };
  };
  readonly completions: {
    create(params: CompletionCreateParamsStreaming, options?: RequestOptions): Promise<Stream<Completion>>;
    create(params: CompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<WithStats<Completion>>;
    create(params: CompletionCreateParams, options?: RequestOptions): Promise<Stream<Completion> | WithStats<Completion>>;
  };
  readonly responses: {
    create(params: ResponseCreateParamsStreaming, options?: RequestOptions): Promise<Stream<ResponseStreamEvent>>;
    create(params: ResponseCreateParamsNonStreaming, options?: RequestOptions): Promise<ResponseObject>;
    create(params: ResponseCreateParams, options?: RequestOptions): Promise<Stream<ResponseStreamEvent> | ResponseObject>;
  };
  /** `/v1/embeddings`: one private embedding session per input (the engine never sees the text). */
  readonly embeddings: {
    create(params: EmbeddingCreateParams, options?: RequestOptions): Promise<WithStats<CreateEmbeddingResponse>>;
  };
  /** vLLM's `/tokenize` (outside `/v1`): ids of a text or of a conversation through the chat template. */
  readonly tokenize: (params: TokenizeParams, options?: RequestOptions) => Promise<TokenizeResult>;
  /** vLLM's `/detokenize`: text of token ids. */
  readonly detokenize: (params: { model: string; tokens: number[] }, options?: RequestOptions) => Promise<{ prompt: string }>;
  readonly models: {
    list(options?: RequestOptions): Promise<ModelList>;
    retrieve(id: string, options?: RequestOptions): Promise<Model>;
  };

  constructor(private readonly options: PermllmClientOptions) {
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Overloaded methods are declared above and implemented by these generic helpers.
    this.chat = {
      completions: {
        create: ((params: ChatCompletionCreateParams, opts?: RequestOptions) =>
          this.generate<ChatCompletion, ChatCompletionChunk>('/chat/completions', params, opts)) as PermllmClient['chat']['completions']['create'],
      },
    };
    this.completions = {
      create: ((params: CompletionCreateParams, opts?: RequestOptions) =>
        this.generate<Completion, Completion>('/completions', params, opts)) as PermllmClient['completions']['create'],
    };
    this.responses = {
      create: ((params: ResponseCreateParams, opts?: RequestOptions) =>
        this.generate<ResponseObject, ResponseStreamEvent>('/responses', params, opts)) as PermllmClient['responses']['create'],
    };
    this.embeddings = {
      create: (params, opts) => this.request('POST', '/embeddings', params, opts).then(({ response }) => withStats<CreateEmbeddingResponse>(response)),
    };
    // The two vLLM routes sit at the server root, beside /v1.
    const root = this.baseURL.replace(/\/v1$/, '');
    this.tokenize = (params, opts) =>
      this.request('POST', '/tokenize', params, opts, root).then(({ response }) => response.json() as Promise<TokenizeResult>);
    this.detokenize = (params, opts) =>
      this.request('POST', '/detokenize', params, opts, root).then(({ response }) => response.json() as Promise<{ prompt: string }>);
    this.models = {
      list: (opts) => this.request('GET', '/models', undefined, opts).then(({ response }) => response.json() as Promise<ModelList>),
      retrieve: (id, opts) =>
        this.request('GET', `/models/${encodeURIComponent(id)}`, undefined, opts).then(
          ({ response }) => response.json() as Promise<Model>,
        ),
    };
  }

  private async generate<TFinal extends object, TChunk extends object>(
    path: string,
    params: { stream?: boolean | null },
    options: RequestOptions | undefined,
  ): Promise<Stream<TChunk> | WithStats<TFinal>> {
    const { response, controller } = await this.request('POST', path, params, options);
    if (params.stream === true) return new Stream<TChunk>(response, controller);
    let body: WithStats<TFinal>;
    try {
      body = (await response.json()) as WithStats<TFinal>;
    } catch (error) {
      if (controller.signal.aborted) throw new APIUserAbortError();
      throw new APIConnectionError('The gateway closed the connection before the whole answer arrived.', { cause: error });
    }
    const header = response.headers.get('x-permllm-stats');
    if (header) body.permllm = JSON.parse(header) as PermllmStats;
    return body;
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: RequestOptions | undefined,
    base: string = this.baseURL,
  ): Promise<{ response: Response; controller: AbortController }> {
    // Our own controller lets a Stream abort itself; the caller's signal feeds into it.
    const controller = new AbortController();
    const signal = options?.signal;
    if (signal?.aborted) throw new APIUserAbortError();
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.options.defaultHeaders,
      ...(this.options.apiKey === undefined ? {} : { authorization: `Bearer ${this.options.apiKey}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options?.headers,
    };
    let response: Response;
    try {
      response = await this.fetchImpl(`${base}${path}`, {
        method,
        headers,
        signal: controller.signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if (controller.signal.aborted) throw new APIUserAbortError();
      throw new APIConnectionError(`Could not reach the gateway at ${this.baseURL}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let envelope: ErrorResponse | undefined;
      try {
        envelope = JSON.parse(text) as ErrorResponse;
      } catch {
        // not the gateway's envelope (e.g. a proxy's HTML page): the status still says what happened
      }
      throw apiErrorFor(response.status, envelope?.error, response.headers);
    }
    return { response, controller };
  }
}
