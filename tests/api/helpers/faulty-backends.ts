/** Backends that misbehave on purpose, each wrapping a real one, for the error-path tests. */
import type {
  GenerationBackend,
  GenerationEvent,
  GenerationRequest,
} from '../../../gateway/pipeline/generation-backend.js';

/** Passes `after` real tokens through, then throws like a crashed engine. */
export class FailingBackend implements GenerationBackend {
  constructor(
    private readonly inner: GenerationBackend,
    private readonly after: number,
    private readonly error: Error = new Error('engine connection reset'),
  ) {}
  get modelInfo() {
    return this.inner.modelInfo;
  }
  readiness() {
    return this.inner.readiness();
  }
  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    let passed = 0;
    for await (const event of this.inner.generate(request)) {
      if (passed === this.after) throw this.error;
      yield event;
      passed++;
    }
  }
}

/** Reports not ready (engine unreachable) and must never be asked to generate. */
export class NotReadyBackend implements GenerationBackend {
  constructor(private readonly inner: GenerationBackend) {}
  get modelInfo() {
    return this.inner.modelInfo;
  }
  readiness() {
    return { ready: false, reason: 'engine at http://127.0.0.1:9 is unreachable' };
  }
  generate(): AsyncIterable<GenerationEvent> {
    throw new Error('NotReadyBackend.generate must not be called');
  }
}

/** Hands out each real token `delayMs` late: a slow but steadily progressing engine. */
export class SlowBackend implements GenerationBackend {
  constructor(
    private readonly inner: GenerationBackend,
    private readonly delayMs: number,
  ) {}
  get modelInfo() {
    return this.inner.modelInfo;
  }
  readiness() {
    return this.inner.readiness();
  }
  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    for await (const event of this.inner.generate(request)) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      yield event;
    }
  }
}
