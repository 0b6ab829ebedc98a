/**
 * One access-log line per HTTP request, written when the response is over: for a stream that
 * is when the stream ends (not when its headers go out), so the line carries the outcome,
 * the token counts and the timings. Fields: reqId, method, route (the pattern, not the
 * path with its parameters), status, durationMs, and for generations model, promptTokens,
 * completionTokens, finishReasons, queueMs, ttftMs, outcome and error code. Never the prompt,
 * the output or any header value.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../../observability/logger.js';

export interface AccessFields {
  model?: string;
  stream?: boolean;
  choices?: number;
  promptTokens?: number;
  completionTokens?: number;
  finishReasons?: string[];
  queueMs?: number;
  ttftMs?: number;
  /** ok, client_gone, error */
  outcome?: 'ok' | 'client_gone' | 'error';
  /** The error code of a failure (the OpenAI `code`). */
  error?: string;
  status?: number;
}

export class AccessRecord {
  /** performance.now() when the request arrived. */
  readonly started = performance.now();
  private readonly fields: AccessFields = {};
  private deferred = false;
  private written = false;

  constructor(
    private readonly logger: Logger,
    private readonly base: { reqId: string; method: string; route: string },
  ) {}

  /** Adds fields to the line. */
  set(fields: AccessFields): void {
    Object.assign(this.fields, fields);
  }

  /** The response is a stream: write the line from `end()` when it is over, not when the handler returns. */
  defer(): void {
    this.deferred = true;
  }

  get isDeferred(): boolean {
    return this.deferred;
  }

  /** Writes the line (once). */
  end(fields: AccessFields = {}): void {
    if (this.written) return;
    this.written = true;
    Object.assign(this.fields, fields);
    const durationMs = Math.round((performance.now() - this.started) * 10) / 10;
    const status = this.fields.status ?? 0;
    const line = { ...this.base, ...this.fields, durationMs };
    if (status >= 500 || this.fields.outcome === 'error') this.logger.warn(line, 'request');
    else this.logger.info(line, 'request');
  }

  /** Called by the middleware once the handler returned. */
  handlerDone(status: number): void {
    this.fields.status ??= status;
    if (!this.deferred) this.end();
  }
}

/** The middleware: puts an `AccessRecord` in `c.var.access` and writes its line. */
export function accessLog(logger: Logger): MiddlewareHandler<{ Variables: { access: AccessRecord; requestId: string } }> {
  return async (c, next) => {
    // Routing is done before the first middleware runs: the pattern of the handler that will answer.
    const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched';
    const record = new AccessRecord(logger, { reqId: c.get('requestId'), method: c.req.method, route });
    c.set('access', record);
    try {
      await next();
    } finally {
      record.handlerDone(c.res.status);
    }
  };
}
