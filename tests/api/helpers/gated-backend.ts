/**
 * Wraps any backend so a test can hold generation at a chosen point and release it by hand:
 * before the first token is handed out, or after the first k tokens. The wrapped backend runs
 * for real (its prefill starts as soon as the session does); waiting always gives way to the
 * request's abort signal, so cancellation reaches the real backend.
 */
import type {
  GenerationBackend,
  GenerationEvent,
  GenerationRequest,
} from '../../../gateway/pipeline/generation-backend.js';

export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}

function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

export class GatedBackend implements GenerationBackend {
  readonly gate = new Gate();
  private startedResolve!: () => void;
  /** Resolves when the first session starts. */
  readonly started = new Promise<void>((resolve) => (this.startedResolve = resolve));
  sessions = 0;

  /** Tokens passed through before waiting on the gate (0 = hold before the first). */
  constructor(
    readonly inner: GenerationBackend,
    private readonly holdAfter = 0,
    /** Extra events to hold forever (never yield): simulates a stuck engine. */
    private readonly stuck = false,
  ) {}

  get modelInfo() {
    return this.inner.modelInfo;
  }

  readiness() {
    return this.inner.readiness();
  }

  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    this.sessions++;
    const iterator = this.inner.generate(request)[Symbol.asyncIterator]();
    try {
      let passed = 0;
      // Start the real session now (prefill runs while we hold).
      let next = iterator.next();
      // Observed later (or never, if aborted while held): keep it from counting as unhandled.
      next.catch(() => undefined);
      this.startedResolve();
      for (;;) {
        if (passed === this.holdAfter) await abortable(this.stuck ? new Promise<void>(() => {}) : this.gate.opened, request.signal);
        const result = await next;
        if (result.done) return;
        yield result.value;
        passed++;
        next = iterator.next();
        next.catch(() => undefined);
      }
    } finally {
      await iterator.return?.();
    }
  }
}
