/**
 * The gateway's one error hierarchy. Every failure a client can see (a bad request, a missing
 * key, a full queue, engine trouble) is one of these; `render-error.ts` turns any of them into
 * the OpenAI envelope `{"error":{"message","type","param","code"}}`, both for HTTP responses
 * and for the single in-stream error frame.
 *
 * Fields:
 * - `status`: the HTTP status (also used when the error happens mid-stream, for logs/metrics).
 * - `type`: OpenAI's error `type` (`invalid_request_error`, `rate_limit_error`, `server_error`).
 * - `code`: a stable machine-readable code (`unsupported_parameter`, `model_not_found`, ...).
 * - `param`: the offending request field, dotted/bracketed (`messages[1].content[0]`), or null.
 * - `retryable`: whether replaying the same request can succeed; false sends
 *   `x-should-retry: false` so the official clients do not retry pointlessly.
 */
export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface GatewayErrorOptions {
  code?: string | null;
  param?: string | null;
  cause?: unknown;
}

export class GatewayError extends Error {
  override readonly name: string = 'GatewayError';
  readonly code: string | null;
  readonly param: string | null;

  constructor(
    readonly status: number,
    readonly type: OpenAIErrorType,
    message: string,
    readonly retryable: boolean,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? null;
    this.param = options.param ?? null;
  }

  /** Extra response headers this error needs (e.g. Retry-After). */
  headers(): Record<string, string> {
    return this.retryable ? {} : { 'x-should-retry': 'false' };
  }
}

/** 400: the request is malformed or asks for something invalid. */
export class InvalidRequestError extends GatewayError {
  override readonly name: string = 'InvalidRequestError';
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(400, 'invalid_request_error', message, false, { code: 'invalid_value', ...options });
  }
}

/** 400: a parameter OpenAI defines (or an unknown one) that this gateway does not support. */
export class UnsupportedParameterError extends InvalidRequestError {
  override readonly name = 'UnsupportedParameterError';
  constructor(param: string, message?: string) {
    super(message ?? `Unsupported parameter: '${param}' is not supported by this gateway.`, {
      code: 'unsupported_parameter',
      param,
    });
  }
}

/** 400: prompt plus requested completion do not fit the model's context window. */
export class ContextLengthExceededError extends InvalidRequestError {
  override readonly name = 'ContextLengthExceededError';
  constructor(message: string, param: string) {
    super(message, { code: 'context_length_exceeded', param });
  }
}

/** 401: missing or wrong API key. */
export class AuthenticationError extends GatewayError {
  override readonly name = 'AuthenticationError';
  constructor(message = 'Incorrect or missing API key. Send it as "Authorization: Bearer <key>".') {
    super(401, 'invalid_request_error', message, false, { code: 'invalid_api_key' });
  }
  override headers(): Record<string, string> {
    return { ...super.headers(), 'www-authenticate': 'Bearer' };
  }
}

/** 403: the request is refused as such (a Host header that is not ours: DNS-rebinding defence). */
export class ForbiddenError extends GatewayError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, code: string) {
    super(403, 'invalid_request_error', message, false, { code });
  }
}

/** 404: unknown route or model. */
export class NotFoundError extends GatewayError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(404, 'invalid_request_error', message, false, { code: 'not_found', ...options });
  }
}

/** 405: the route exists but not for this method. */
export class MethodNotAllowedError extends GatewayError {
  override readonly name = 'MethodNotAllowedError';
  constructor(
    method: string,
    path: string,
    readonly allow: readonly string[],
  ) {
    super(405, 'invalid_request_error', `Method ${method} is not allowed for ${path}; use ${allow.join(', ')}.`, false, {
      code: 'method_not_allowed',
    });
  }
  override headers(): Record<string, string> {
    return { ...super.headers(), allow: this.allow.join(', ') };
  }
}

/** 413: the request body exceeds the configured limit. */
export class PayloadTooLargeError extends GatewayError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'invalid_request_error', `Request body exceeds the limit of ${limitBytes} bytes.`, false, {
      code: 'request_too_large',
    });
  }
  /**
   * The rest of the oversized body was never read, so the connection cannot carry another
   * request: close it (the next request on it would otherwise be parsed from the leftovers).
   */
  override headers(): Record<string, string> {
    return { ...super.headers(), connection: 'close' };
  }
}

/** 415: the body is not `application/json`. */
export class UnsupportedMediaTypeError extends GatewayError {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(contentType: string | undefined) {
    super(
      415,
      'invalid_request_error',
      `Unsupported content type ${contentType ? `'${contentType}'` : '(none)'}; send 'application/json'.`,
      false,
      { code: 'unsupported_media_type' },
    );
  }
}

/** 429: too many requests in flight and the queue is full (or waiting in it took too long). */
export class RateLimitError extends GatewayError {
  override readonly name = 'RateLimitError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limit_error', message, true, { code: 'rate_limit_exceeded' });
  }
  override headers(): Record<string, string> {
    return { ...super.headers(), 'retry-after': String(this.retryAfterSeconds) };
  }
}

/** 500: a bug in the gateway. The message is generic; the detail goes to the log only. */
export class InternalError extends GatewayError {
  override readonly name = 'InternalError';
  constructor(options: GatewayErrorOptions = {}) {
    super(500, 'server_error', 'The gateway hit an internal error.', false, { code: 'internal_error', ...options });
  }
}

/** 502: the engine (or the protocol with it) failed while serving this request. */
export class EngineError extends GatewayError {
  override readonly name = 'EngineError';
  constructor(message: string, options: GatewayErrorOptions & { retryable?: boolean } = {}) {
    super(502, 'server_error', message, options.retryable ?? true, { code: 'engine_error', ...options });
  }
}

/** 503: the backend is not ready (model loading, engine or dealer unreachable). */
export class EngineUnavailableError extends GatewayError {
  override readonly name = 'EngineUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(503, 'server_error', message, true, { code: 'engine_unavailable' });
  }
  override headers(): Record<string, string> {
    return { ...super.headers(), 'retry-after': String(this.retryAfterSeconds) };
  }
}

/** 503: the gateway is shutting down; in-flight streams that outlived the grace period end with this frame. */
export class ServerShuttingDownError extends GatewayError {
  override readonly name = 'ServerShuttingDownError';
  constructor(message = 'The gateway is shutting down; retry on another instance or once it is back.') {
    super(503, 'server_error', message, true, { code: 'server_shutting_down' });
  }
}

/** 504: the engine took too long (to the first token, or between two tokens). */
export class EngineTimeoutError extends GatewayError {
  override readonly name = 'EngineTimeoutError';
  constructor(message: string) {
    super(504, 'server_error', message, true, { code: 'timeout' });
  }
}
