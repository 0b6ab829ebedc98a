/**
 * The generation loop shared by every path that produces tokens: the plaintext oracle, the
 * private protocol's gateway side, the CLI and the HTTP gateway. It owns the order of events
 * (prefill → sample → decode → sample ...), the stop rules and the timings; the model behind it
 * is any TokenStepper.
 */
import type { Prg } from '../crypto/prg.js';
import { applyLogitAdjustments, isNeutral, type LogitAdjustments } from '../sampling/logit-adjustments.js';
import { sampleToken } from '../sampling/sample-token.js';
import { resolveSamplingParams, type SamplingParams } from '../sampling/sampling-params.js';
import type { TokenStepper } from './token-stepper.js';

export type FinishReason = 'stop' | 'length';

export interface GenerateOptions {
  /** Most tokens to generate (>= 1). */
  maxTokens: number;
  sampling: SamplingParams;
  /** The sampler's randomness (see sampling/sampling-rng.ts). */
  rng: Prg;
  /** Sampling one of these ends generation with "stop"; it is not yielded. */
  stopIds: ReadonlySet<number>;
  /** Logit bias and penalties, applied in vocabulary order before sampling. */
  adjustments?: Omit<LogitAdjustments, 'generated'>;
  signal?: AbortSignal;
}

export interface GeneratedToken {
  id: number;
  /** The model's logits this token was sampled from (before any adjustments). */
  logits: Float32Array | Float64Array;
}

export interface GenerationTimings {
  /** Prefill forward pass plus sampling the first token (time to first token). */
  prefillMs: number;
  /** All later decode forward passes plus their sampling. Time spent in the consumer is excluded. */
  decodeMs: number;
  /** Number of decode forward passes. */
  decodeSteps: number;
}

/**
 * One completion. Iterate it once with `for await`; afterwards `finishReason`, `tokens` and
 * `timings` describe what happened (`finishReason` stays undefined when the consumer stopped
 * early or an error was thrown).
 */
export class Generation implements AsyncIterable<GeneratedToken> {
  finishReason: FinishReason | undefined;
  readonly tokens: number[] = [];
  readonly timings: GenerationTimings = { prefillMs: 0, decodeMs: 0, decodeSteps: 0 };
  private started = false;

  constructor(
    private readonly stepper: TokenStepper,
    private readonly prompt: readonly number[],
    private readonly options: GenerateOptions,
  ) {
    if (!Number.isInteger(options.maxTokens) || options.maxTokens < 1) throw new RangeError(`maxTokens: must be an integer >= 1, got ${options.maxTokens}`);
    if (prompt.length === 0) throw new RangeError('prompt: must hold at least one token (e.g. BOS)');
    resolveSamplingParams(options.sampling); // fail before any forward pass
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GeneratedToken> {
    if (this.started) throw new Error('Generation: already iterated; start a new one');
    this.started = true;
    const { maxTokens, sampling, rng, stopIds, adjustments, signal } = this.options;
    const contextLength = this.stepper.contextLength ?? Infinity;
    const choose = (logits: Float32Array | Float64Array): number => {
      const adjusted = adjustments && !isNeutral({ ...adjustments, generated: this.tokens }) ? applyLogitAdjustments(logits, { ...adjustments, generated: this.tokens }) : logits;
      return sampleToken(adjusted, sampling, rng);
    };

    signal?.throwIfAborted();
    let t0 = performance.now();
    let logits = await this.stepper.prefill(this.prompt);
    let id = choose(logits);
    this.timings.prefillMs = performance.now() - t0;
    for (;;) {
      if (stopIds.has(id)) {
        this.finishReason = 'stop';
        return;
      }
      this.tokens.push(id);
      yield { id, logits };
      // The token just yielded goes to position prompt.length + tokens.length − 1, which must
      // exist for it to be decoded.
      if (this.tokens.length >= maxTokens || this.prompt.length + this.tokens.length > contextLength) {
        this.finishReason = 'length';
        return;
      }
      signal?.throwIfAborted();
      t0 = performance.now();
      logits = await this.stepper.decode(id);
      id = choose(logits);
      this.timings.decodeMs += performance.now() - t0;
      this.timings.decodeSteps++;
    }
  }
}

/** Starts a completion of `prompt` (token ids, BOS included when the model wants one). */
export function generate(stepper: TokenStepper, prompt: readonly number[], options: GenerateOptions): Generation {
  return new Generation(stepper, prompt, options);
}
