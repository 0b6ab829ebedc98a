/**
 * The plaintext GenerationBackend: the reference forward pass (plaintext) behind the
 * shared generation loop, in this process. It is the oracle the private backend is compared
 * with, and what the HTTP API ships on until the private protocol client is plugged in.
 * No protocol traffic, so its ProtocolStats carry zero bytes and only the two phase timings.
 */
import type { ModelDescription } from '../../model/model-description.js';
import { loadModel } from '../../model/load-model.js';
import { generate } from '../../plaintext/generate.js';
import { PlaintextModel, type PlaintextModelOptions } from '../../plaintext/plaintext-model.js';
import { logprobOf, topLogprobs } from '../../sampling/logprobs.js';
import { samplingRng } from '../../sampling/sampling-rng.js';
import type {
  EmbeddingRequest,
  EmbeddingResult,
  GenerationBackend,
  GenerationEvent,
  GenerationRequest,
  ModelInfo,
  SessionEnd,
} from './generation-backend.js';

export interface PlaintextBackendOptions extends PlaintextModelOptions {
  /** Unix seconds shown by /v1/models (default: when the backend was created). */
  created?: number;
}

export class PlaintextBackend implements GenerationBackend {
  readonly modelInfo: ModelInfo;
  private readonly model: PlaintextModel;
  private active = 0;
  private readonly listeners = new Set<(end: SessionEnd) => void>();

  constructor(description: ModelDescription, options: PlaintextBackendOptions = {}) {
    const { created, ...modelOptions } = options;
    this.model = new PlaintextModel(description, modelOptions);
    this.modelInfo = {
      id: description.id,
      created: created ?? Math.floor(Date.now() / 1000),
      maxContext: description.config.maxSeqLen,
      tokenizer: description.tokenizer,
      ...(description.chatTemplate === undefined ? {} : { chatTemplate: description.chatTemplate }),
    };
  }

  /** Loads a model from disk (any format `loadModel` knows). */
  static async load(modelPath: string, options: PlaintextBackendOptions = {}): Promise<PlaintextBackend> {
    return new PlaintextBackend(await loadModel(modelPath), options);
  }

  readiness(): { ready: boolean; reason?: string } {
    return { ready: true };
  }

  /** Sessions currently generating. */
  get activeSessions(): number {
    return this.active;
  }

  onSessionEnd(listener: (end: SessionEnd) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The float oracle's embedding: the mean over positions of the final hidden state (final norm, γ applied). */
  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    request.signal.throwIfAborted();
    const began = performance.now();
    const { dim } = this.model.config;
    const rows = request.tokens.length;
    const hidden = await this.model.newSequence().finalHiddenStates(request.tokens);
    const embedding = new Float64Array(dim);
    for (let t = 0; t < rows; t++) for (let i = 0; i < dim; i++) embedding[i]! += hidden[t * dim + i]!;
    for (let i = 0; i < dim; i++) embedding[i] = embedding[i]! / rows;
    return { embedding, stats: { bytesToEngine: 0, bytesFromEngine: 0, dealerBytes: 0, prefillMs: performance.now() - began, decodeMs: 0 } };
  }

  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    const { sampling, signal } = request;
    this.active++;
    let ended: SessionEnd['reason'] = 'aborted';
    let generatedTokens = 0;
    try {
      const generation = generate(this.model.newSequence(), request.promptTokens, {
        maxTokens: request.maxTokens,
        sampling: {
          temperature: sampling.temperature,
          // OpenAI allows top_p = 0 ("only the most likely token"); the sampler wants (0, 1].
          topP: Math.max(sampling.topP, Number.MIN_VALUE),
          topK: sampling.topK,
          minP: sampling.minP,
        },
        rng: samplingRng(sampling.seed),
        stopIds: this.modelInfo.tokenizer.eosIds,
        adjustments: request.adjustments,
        signal,
      });
      for await (const token of generation) {
        generatedTokens++;
        if (request.topLogprobs === undefined) {
          yield { type: 'token', id: token.id };
        } else {
          yield {
            type: 'token',
            id: token.id,
            logprob: logprobOf(token.logits, token.id),
            topLogprobs: topLogprobs(token.logits, request.topLogprobs).map((t) => ({ id: t.index, logprob: t.logprob })),
          };
        }
      }
      ended = 'finished';
      yield {
        type: 'finish',
        reason: generation.finishReason ?? 'length',
        stats: {
          bytesToEngine: 0,
          bytesFromEngine: 0,
          dealerBytes: 0,
          prefillMs: generation.timings.prefillMs,
          decodeMs: generation.timings.decodeMs,
        },
      };
    } catch (error) {
      ended = signal.aborted ? 'aborted' : 'error';
      throw error;
    } finally {
      // Reached on normal completion, on a thrown error, and when the consumer returns early
      // (client gone, stop string, timeout): the session is over in every case.
      this.active--;
      const end: SessionEnd = { reason: ended, generatedTokens };
      for (const listener of this.listeners) listener(end);
    }
  }
}
