/**
 * Errors thrown by PermllmClient. HTTP failures are `APIError` subclasses chosen by status,
 * carrying the gateway's OpenAI envelope fields (`type`, `code`, `param`); a failure inside a
 * stream (the gateway's single error frame) is a `StreamError`.
 */
import type { ErrorResponse } from './types.js';

export class PermllmError extends Error {
  override readonly name: string = 'PermllmError';
}

export class APIError extends PermllmError {
  override readonly name: string = 'APIError';
  readonly type: string | null;
  readonly code: string | null;
  readonly param: string | null;

  constructor(
    /** HTTP status; undefined for an error received inside a stream. */
    readonly status: number | undefined,
    body: ErrorResponse['error'] | undefined,
    fallbackMessage: string,
    /** Response headers, when there was a response. */
    readonly headers: Headers | undefined,
  ) {
    super(body?.message ?? fallbackMessage);
    this.type = body?.type ?? null;
    this.code = body?.code ?? null;
    this.param = body?.param ?? null;
  }

  /** The gateway's `x-request-id` for this request, for logs and bug reports. */
  get requestId(): string | null {
    return this.headers?.get('x-request-id') ?? null;
  }
}

export class BadRequestError extends APIError { override readonly name = 'BadRequestError'; }
export class AuthenticationError extends APIError { override readonly name = 'AuthenticationError'; }
export class PermissionDeniedError extends APIError { override readonly name = 'PermissionDeniedError'; }
export class NotFoundError extends APIError { override readonly name = 'NotFoundError'; }
export class MethodNotAllowedError extends APIError { override readonly name = 'MethodNotAllowedError'; }
export class PayloadTooLargeError extends APIError { override readonly name = 'PayloadTooLargeError'; }
export class UnsupportedMediaTypeError extends APIError { override readonly name = 'UnsupportedMediaTypeError'; }
export class RateLimitError extends APIError {
  override readonly name = 'RateLimitError';
  /** Seconds the gateway asked to wait (Retry-After), when it said. */
  get retryAfterSeconds(): number | undefined {
    const value = Number(this.headers?.get('retry-after'));
    return Number.isFinite(value) && value > 0 ? value : undefined;
  }
}
export class InternalServerError extends APIError { override readonly name: string = 'InternalServerError'; }
export class BadGatewayError extends InternalServerError { override readonly name = 'BadGatewayError'; }
export class ServiceUnavailableError extends InternalServerError { override readonly name = 'ServiceUnavailableError'; }
export class GatewayTimeoutError extends InternalServerError { override readonly name = 'GatewayTimeoutError'; }
/** The gateway's error frame inside an SSE stream (status undefined: the stream had started with 200). */
export class StreamError extends APIError { override readonly name = 'StreamError'; }

/** The request never got an HTTP answer (connection refused, reset, DNS). */
export class APIConnectionError extends PermllmError {
  override readonly name = 'APIConnectionError';
}
/** The caller aborted the request through its AbortSignal. */
export class APIUserAbortError extends PermllmError {
  override readonly name = 'APIUserAbortError';
  constructor() {
    super('Request was aborted.');
  }
}

const BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  405: MethodNotAllowedError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  429: RateLimitError,
  502: BadGatewayError,
  503: ServiceUnavailableError,
  504: GatewayTimeoutError,
};

/** The APIError subclass for an HTTP status. */
export function apiErrorFor(status: number, body: ErrorResponse['error'] | undefined, headers: Headers): APIError {
  const ErrorClass = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new ErrorClass(status, body, `HTTP ${status}`, headers);
}
