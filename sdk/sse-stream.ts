/**
 * An SSE response body as an async iterator of parsed `data:` objects: comments (`: keep-alive`)
 * are skipped, `data: [DONE]` ends the iteration, and the gateway's error frame
 * (`data: {"error":{...}}`) is thrown as a StreamError. The `permllm` extension of the last
 * frame is kept as `stats`.
 */
import { APIConnectionError, StreamError } from './api-error.js';
import type { ErrorResponse, PermllmStats } from './types.js';

export class Stream<T extends object> implements AsyncIterable<T> {
  /** The protocol cost, once the stream has been read to its end. */
  stats: PermllmStats | undefined;
  private consumed = false;

  constructor(
    /** The HTTP response (status 200, `text/event-stream`). */
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  /** The gateway's x-request-id. */
  get requestId(): string | null {
    return this.response.headers.get('x-request-id');
  }

  /** Stops reading and closes the connection (the gateway then ends the generation). */
  abort(): void {
    this.controller.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.consumed) throw new Error('Stream: already iterated');
    this.consumed = true;
    const body = this.response.body;
    if (!body) return;
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          // Aborted by the caller: end quietly, as the official SDK does.
          if (this.controller.signal.aborted) return;
          throw new APIConnectionError('The stream was cut before it finished.', { cause: error });
        }
        const { done, value } = next;
        if (done) return;
        buffer += value.replaceAll('\r\n', '\n');
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data === '') continue; // comment or keep-alive
          if (data === '[DONE]') return;
          const parsed = JSON.parse(data) as T | ErrorResponse;
          if ('error' in parsed && parsed.error) {
            throw new StreamError(undefined, parsed.error, 'stream failed', this.response.headers);
          }
          const chunk = parsed as T & { permllm?: PermllmStats };
          if (chunk.permllm) this.stats = chunk.permllm;
          yield chunk;
        }
      }
    } finally {
      // Leaving early (break, error) closes the connection, which cancels the generation.
      await reader.cancel().catch(() => undefined);
    }
  }
}
