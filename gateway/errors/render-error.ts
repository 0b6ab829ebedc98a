/**
 * The one place a `GatewayError` becomes wire bytes: the OpenAI error envelope, for an HTTP
 * error response and for the in-stream error frame alike.
 */
import { EngineError, GatewayError, InternalError } from './gateway-error.js';

/** OpenAI's error envelope. */
export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorEnvelope(error: GatewayError): ErrorEnvelope {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/** A complete JSON error response, with the error's own headers (Retry-After, x-should-retry). */
export function errorResponse(error: GatewayError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(errorEnvelope(error)), {
    status: error.status,
    headers: { 'content-type': 'application/json', ...error.headers(), ...extraHeaders },
  });
}

/**
 * Anything thrown becomes a GatewayError. Unknown errors are the gateway's own bugs (500,
 * generic message: details stay in the log) unless they came out of the backend, in which case
 * they are engine trouble (502).
 */
export function toGatewayError(error: unknown, origin: 'gateway' | 'backend' = 'gateway'): GatewayError {
  if (error instanceof GatewayError) return error;
  if (origin === 'backend') {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new EngineError(`The engine failed: ${detail.slice(0, 300)}`, { cause: error });
  }
  return new InternalError({ cause: error });
}
