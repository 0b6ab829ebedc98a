/**
 * Runs one choice: drives `backend.generate`, turns token ids into text (incremental UTF-8
 * safe decoding), applies stop strings, attributes logprobs to the text they produced, and
 * enforces the per-phase timeouts. Yields `ChoiceUpdate`s that the chat and legacy routes
 * shape into their own wire objects.
 *
 * Cancellation: the HTTP request's signal (client disconnect, server shutdown) aborts the
 * backend's signal; a timeout aborts it too. A stop-string match does not abort: the iterator
 * is returned, which the backend contract treats as a normal end (generation-backend.ts).
 * Whatever the reason, the backend's iterator is returned so its session ends.
 */
import type { Tokenizer } from '../../model/tokenizer.js';
import { EngineError, EngineTimeoutError, GatewayError, toGatewayError } from '../errors/index.js';
import type {
  GenerationBackend,
  GenerationEvent,
  GenerationRequest,
  ProtocolStats,
} from '../pipeline/generation-backend.js';
import { StopSequenceMatcher } from './stop-sequence-matcher.js';

/** A generated token as logprobs report it; `textOffset` is where its text starts in the choice's text. */
export interface ChoiceToken {
  id: number;
  logprob: number;
  top: { id: number; logprob: number }[];
  textOffset: number;
}

export type ChoiceUpdate =
  | { type: 'text'; index: number; text: string; tokens: ChoiceToken[] }
  | { type: 'finish'; index: number; reason: 'stop' | 'length'; completionTokens: number; stats?: ProtocolStats };

export interface ChoiceObserver {
  /** Seconds from the start of the choice to its first token. */
  firstToken?(seconds: number): void;
  /** Seconds between two consecutive tokens. */
  interToken?(seconds: number): void;
}

export interface ChoiceRunOptions {
  backend: GenerationBackend;
  tokenizer: Tokenizer;
  index: number;
  request: Omit<GenerationRequest, 'signal'>;
  stops: readonly string[];
  /** The HTTP request's signal: aborts on client disconnect or server close. */
  signal: AbortSignal;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  observer?: ChoiceObserver;
}

/** Thrown when the HTTP request's signal aborted; routes treat it as "client gone", not an error. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

/**
 * Why the request's signal aborted, as the error to throw: a GatewayError reason (the server
 * shutting down) is reported to the client; anything else means the client went away.
 */
function abortedBy(signal: AbortSignal, cause?: unknown): Error {
  if (signal.reason instanceof GatewayError) return signal.reason;
  return new RequestAbortedError('client disconnected', cause === undefined ? undefined : { cause });
}

/**
 * `iterator.next()`, unless the signal aborts or `timeoutMs` passes first without progress:
 * `lastProgress()` (performance.now() of the backend's latest progress report) pushes the
 * deadline back, so only silence counts, never the length of legitimate work.
 */
function nextWithin<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
  timeoutMs: number,
  timeoutMessage: string,
  lastProgress: () => number = () => 0,
): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    const waitStarted = performance.now();
    let timer: NodeJS.Timeout;
    const cleanup = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(signal.reason instanceof Error ? signal.reason : new RequestAbortedError(String(signal.reason)));
    };
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        const silentFor = performance.now() - Math.max(waitStarted, lastProgress());
        if (silentFor < timeoutMs) return arm(timeoutMs - silentFor);
        cleanup();
        reject(new EngineTimeoutError(timeoutMessage));
      }, ms);
    };
    arm(timeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (result) => {
        cleanup();
        resolve(result);
      },
      (error: unknown) => {
        cleanup();
        reject(toGatewayError(error, 'backend'));
      },
    );
  });
}

export async function* runChoice(options: ChoiceRunOptions): AsyncGenerator<ChoiceUpdate, void, undefined> {
  const { tokenizer, index } = options;
  const wantLogprobs = options.request.topLogprobs !== undefined;
  const controller = new AbortController();
  const forwardAbort = () => controller.abort(new RequestAbortedError('client disconnected'));
  if (options.signal.aborted) throw abortedBy(options.signal);
  options.signal.addEventListener('abort', forwardAbort, { once: true });

  let iterator: AsyncIterator<GenerationEvent> | undefined;
  const matcher = new StopSequenceMatcher(options.stops);
  const ids: number[] = [];
  /** Tokens whose text has not been fully emitted yet, with their [start, end) in the produced text. */
  const pending: (ChoiceToken & { end: number })[] = [];
  let produced = 0; // characters decoded so far (emitted + held)
  let emitted = 0; // characters sent to the client
  let ended = false;
  const started = performance.now();
  let lastTokenAt = started;
  let lastProgressAt = 0;

  /**
   * Tokens to report with the text emitted so far. While streaming: everything up to the last
   * token whose (non-empty) text is fully out; empty-text tokens after it (the leading bytes of
   * a UTF-8 character split over byte tokens) wait for the text they lead to. At the end:
   * every token starting before `cut` (the stop string's position, or everything).
   */
  const releasable = (cut?: number): ChoiceToken[] => {
    let count = 0;
    if (cut !== undefined) {
      while (count < pending.length && pending[count]!.textOffset < cut) count++;
    } else {
      pending.forEach((t, i) => {
        if (t.end > t.textOffset && t.end <= emitted) count = i + 1;
      });
    }
    return pending.splice(0, count).map(({ id, logprob, top, textOffset }) => ({ id, logprob, top, textOffset }));
  };

  try {
    // Inside the try: a backend that throws on the call itself is engine trouble too.
    iterator = options.backend.generate({ ...options.request, signal: controller.signal, onProgress: () => (lastProgressAt = performance.now()) })[Symbol.asyncIterator]();
    for (;;) {
      const first = ids.length === 0;
      const result = await nextWithin<GenerationEvent>(
        iterator,
        controller.signal,
        first ? options.firstTokenTimeoutMs : options.idleTimeoutMs,
        first
          ? `The engine made no progress towards a first token for ${options.firstTokenTimeoutMs} ms.`
          : `The engine produced no token for ${options.idleTimeoutMs} ms.`,
        first ? () => lastProgressAt : undefined,
      );
      if (result.done) throw new EngineError('The engine ended the session without finishing it.');
      const event = result.value;

      if (event.type === 'finish') {
        const tail = matcher.flush();
        emitted += tail.length;
        const tokens = wantLogprobs ? releasable(Number.POSITIVE_INFINITY) : [];
        if (tail !== '' || tokens.length > 0) yield { type: 'text', index, text: tail, tokens };
        ended = true;
        yield {
          type: 'finish',
          index,
          reason: event.reason,
          completionTokens: ids.length,
          ...(event.stats === undefined ? {} : { stats: event.stats }),
        };
        return;
      }

      const now = performance.now();
      if (first) options.observer?.firstToken?.((now - started) / 1000);
      else options.observer?.interToken?.((now - lastTokenAt) / 1000);
      lastTokenAt = now;

      const text = tokenizer.decodeIncrement(ids, [event.id]);
      ids.push(event.id);
      if (wantLogprobs) {
        pending.push({
          id: event.id,
          logprob: event.logprob ?? 0,
          top: event.topLogprobs ?? [],
          textOffset: produced,
          end: produced + text.length,
        });
      }
      produced += text.length;

      const { emit, stopped } = matcher.push(text);
      emitted += emit.length;
      if (stopped) {
        const tokens = wantLogprobs ? releasable(emitted) : [];
        if (emit !== '' || tokens.length > 0) yield { type: 'text', index, text: emit, tokens };
        // No abort: returning the iterator (below) ends the session the way an end-of-sequence
        // token does, so the engine and the dealer cannot tell a stop string from EOS.
        ended = true;
        yield { type: 'finish', index, reason: 'stop', completionTokens: ids.length };
        return;
      }
      const tokens = wantLogprobs ? releasable() : [];
      if (emit !== '' || tokens.length > 0) yield { type: 'text', index, text: emit, tokens };
    }
  } catch (error) {
    if (options.signal.aborted) throw abortedBy(options.signal, error);
    throw toGatewayError(error, 'backend');
  } finally {
    options.signal.removeEventListener('abort', forwardAbort);
    if (!ended && !controller.signal.aborted) controller.abort(new RequestAbortedError('generation abandoned'));
    // End the backend's session; never wait on it (a stuck backend must not hold the response).
    if (iterator) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
