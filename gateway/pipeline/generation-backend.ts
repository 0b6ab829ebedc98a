/**
 * The gateway's internal boundary between the HTTP API and whatever produces tokens: the
 * plaintext reference model today, the private PermLLM protocol client (gateway P1 talking to
 * engine P0 and dealer P2) tomorrow. OpenAI wire shapes never cross this line: the API layer
 * (gateway/api) translates requests into `GenerationRequest` and `GenerationEvent`s back into
 * chat/completion objects and SSE chunks.
 *
 * Contract for implementers:
 * - `generate` starts one session per call (one choice; `n > 1` means n calls) and yields
 *   `token` events, then exactly one `finish` event, then ends. The EOS / end-of-turn token is
 *   NOT yielded as a token: it becomes `finish` with reason `'stop'`. Reaching `maxTokens`
 *   yields `finish` with reason `'length'`.
 * - Token ids are real vocabulary ids (after the private protocol's lookup). Sampling and logit
 *   adjustments are applied by the backend (in the private protocol P1 applies them to its own
 *   share / the permuted logits, see protocol.md "Sampling").
 * - Cancellation: when `signal` aborts, the backend must stop promptly (pending `next()`
 *   settles soon, rejecting or ending) and end its session on every party. The API layer aborts
 *   `signal` on client disconnect and on timeouts.
 * - Ending early: when the consumer stops iterating (the iterator's `return()`) without
 *   aborting `signal`, as the API layer does on a stop-string match, the backend ends its
 *   session exactly as it does after an end-of-sequence token: same messages, same close, so
 *   the engine and the dealer cannot tell a stop string from EOS (issue 11).
 * - Errors: throw errors from gateway/errors (`EngineUnavailableError` 503,
 *   `EngineTimeoutError` 504, `EngineError` 502, ...). Anything else thrown is reported to the
 *   client as a 502 `engine_error` carrying the error's message, so keep secrets out of it.
 */
import type { Tokenizer } from '../../model/tokenizer.js';
import type { LogitConstraint } from '../../sampling/logit-adjustments.js';

/** Token selection. `temperature` 0 means greedy (argmax); `topK` 0 and `minP` 0 disable those filters. */
export interface SamplingParams {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  /** Reproducible sampling when set (see `Prg.fromSeed`); fresh randomness otherwise. */
  seed?: number;
}

/** Additions to the logits at known token ids, applied before sampling. */
export interface LogitAdjustments {
  /** token id -> bias added to its logit (OpenAI's -100..100). */
  logitBias?: Record<number, number>;
  /** OpenAI presence penalty: subtract once for every token that already occurred in the completion. */
  presencePenalty?: number;
  /** OpenAI frequency penalty: subtract per occurrence in the completion. */
  frequencyPenalty?: number;
  /**
   * Structured outputs: a per-step token mask in vocabulary order (one instance per choice).
   * The private backend adds it to P1's own share before the output permutation.
   */
  constraint?: LogitConstraint;
}

export interface GenerationRequest {
  /** The whole prompt, already tokenized (BOS included when the model wants one). */
  promptTokens: number[];
  /** Upper bound on generated tokens (>= 1); the API layer guarantees prompt + maxTokens <= maxContext. */
  maxTokens: number;
  sampling: SamplingParams;
  adjustments: LogitAdjustments;
  /** undefined = no logprobs; otherwise also report this many (0..20) most likely alternatives. */
  topLogprobs?: number;
  signal: AbortSignal;
  /**
   * Called whenever the session advances before its first token (the private prefill: each
   * layer of each chunk). The API layer judges a slow first token by this progress, so a long
   * prompt that is being worked on is never cut for its length alone.
   */
  onProgress?: () => void;
}

/** What one session costs on the wire; all optional parts are 0 / absent for the plaintext backend. */
export interface ProtocolStats {
  /** One-way network flights on the decode critical path, per generated token. */
  flightsPerToken?: number;
  bytesToEngine: number;
  bytesFromEngine: number;
  dealerBytes: number;
  prefillMs: number;
  decodeMs: number;
  /** The mask profile the session ran under. */
  maskProfile?: string;
}

export type GenerationEvent =
  | {
      type: 'token';
      id: number;
      /** Log-probability of `id` under the distribution it was sampled from (present when topLogprobs was requested). */
      logprob?: number;
      topLogprobs?: { id: number; logprob: number }[];
    }
  | { type: 'finish'; reason: 'stop' | 'length'; stats?: ProtocolStats };

/** How a session ended, for observers (tests, metrics). */
export interface SessionEnd {
  reason: 'finished' | 'aborted' | 'error';
  generatedTokens: number;
}

export interface ModelInfo {
  /** The model id clients must send as `model`. */
  id: string;
  /** Unix seconds, for `/v1/models`. */
  created: number;
  /** Maximum positions (prompt + completion). */
  maxContext: number;
  tokenizer: Tokenizer;
  /** Jinja chat template; absent for base models (the gateway then uses its plain template). */
  chatTemplate?: string;
}

/** One input of `/v1/embeddings`: one session (on the private backend) over its tokens. */
export interface EmbeddingRequest {
  /** The input's tokens (BOS included for text inputs). */
  tokens: number[];
  signal: AbortSignal;
  onProgress?: () => void;
}

/**
 * The mean over the input's positions of the final hidden state (after the final norm, γ
 * applied): `dim` values, not normalised (the API layer normalises and truncates).
 */
export interface EmbeddingResult {
  embedding: Float64Array;
  stats?: ProtocolStats;
}

export interface GenerationBackend {
  readonly modelInfo: ModelInfo;
  /** Whether requests can be served now; `reason` says why not (shown by /readyz and in 503s). */
  readiness(): { ready: boolean; reason?: string; protection?: { maskProfile: string; minProfile: string } };
  /** One session: token events then one finish event. See the contract above. */
  generate(request: GenerationRequest): AsyncIterable<GenerationEvent>;
  /**
   * Optional: the pooled final hidden state of one input (`/v1/embeddings`). The private backend
   * runs one embedding session; a backend without it answers `/v1/embeddings` with 404. Throws
   * the errors of the contract above; an InvalidRequestError (code `model_not_supported`) when
   * this deployment cannot (a float mask profile has no embedding pass).
   */
  embed?(request: EmbeddingRequest): Promise<EmbeddingResult>;
  /** Optional: sessions currently running (observability and tests). */
  readonly activeSessions?: number;
  /** Optional: subscribe to session ends; returns an unsubscribe function. */
  onSessionEnd?(listener: (end: SessionEnd) => void): () => void;
}
