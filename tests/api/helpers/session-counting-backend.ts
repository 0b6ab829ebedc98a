/**
 * Wraps a real backend and counts its sessions the way the engine would see them: a session
 * is open from the first step of `generate` until its iterator has ended (finally), and every
 * session is held before its first token until the test opens the gate. `peak` is the most
 * sessions ever open at once; that is what admission control must bound.
 */
import type { GenerationBackend, GenerationEvent, GenerationRequest } from '../../../gateway/pipeline/generation-backend.js';
import { Gate } from './gated-backend.js';

export class SessionCountingBackend implements GenerationBackend {
  readonly gate = new Gate();
  /** Sessions open now. */
  active = 0;
  /** Most sessions open at once so far. */
  peak = 0;
  /** Sessions ever started. */
  started = 0;

  private startWaiters: (() => void)[] = [];

  constructor(readonly inner: GenerationBackend) {}

  /** Resolves when the next session starts (a test races a refusal against it). */
  nextStart(): Promise<'session opened'> {
    return new Promise((resolve) => this.startWaiters.push(() => resolve('session opened')));
  }

  get modelInfo() {
    return this.inner.modelInfo;
  }

  readiness() {
    return this.inner.readiness();
  }

  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    this.started++;
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    for (const wake of this.startWaiters.splice(0)) wake();
    try {
      await new Promise<void>((resolve, reject) => {
        if (request.signal.aborted) return reject(request.signal.reason);
        const onAbort = () => reject(request.signal.reason);
        request.signal.addEventListener('abort', onAbort, { once: true });
        void this.gate.opened.then(() => {
          request.signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
      yield* this.inner.generate(request);
    } finally {
      this.active--;
    }
  }
}
