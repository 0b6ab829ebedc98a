/**
 * HTTP client for the control APIs between processes (engine → dealer pairing, gateway →
 * engine model card / masked model / readiness, gateway → dealer health): undici, bearer
 * token, an optional extra CA for https, and timeouts on every call. Failures before an HTTP
 * status are `ControlUnreachableError`s naming the system error (ECONNREFUSED, ...).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { bearerHeader } from './bearer-token.js';
import { originOf } from './ws-connect.js';

export class ControlUnreachableError extends Error {
  override readonly name = 'ControlUnreachableError';
  constructor(
    readonly origin: string,
    readonly errno: string,
  ) {
    super(`${origin} is unreachable: ${errno}`);
  }
}

/** The peer's TLS certificate could not be verified: a configuration problem, not an outage. */
export class ControlTlsError extends Error {
  override readonly name = 'ControlTlsError';
  constructor(
    readonly origin: string,
    readonly errno: string,
  ) {
    super(`cannot verify the TLS certificate of ${origin} (${errno}); trust its CA with --ca FILE`);
  }
}

/** Whether a system error code is about TLS certificates or the handshake. */
export function isTlsErrorCode(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|SSL_/.test(code);
}

export interface ControlClientOptions {
  token?: string | undefined;
  /** PEM CA certificate(s) trusted for https, in addition to the system's. */
  ca?: string | undefined;
  /** Time to response headers (default 5 s). */
  timeoutMs?: number;
}

export interface ControlResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export class ControlClient {
  private readonly dispatcher: Agent;

  constructor(
    readonly baseUrl: string,
    private readonly options: ControlClientOptions = {},
  ) {
    this.dispatcher = new Agent({
      ...(options.ca === undefined ? {} : { connect: { ca: options.ca } }),
      headersTimeout: options.timeoutMs ?? 5000,
      keepAliveTimeout: 4000,
    });
  }

  get origin(): string {
    return originOf(this.baseUrl);
  }

  /** Sends a request; the body stream must be consumed or dumped by the caller. */
  async send(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    init: { json?: unknown; /** A JSON body already serialised (sent byte for byte, e.g. because it is signed). */ rawJson?: string; headers?: Record<string, string>; signal?: AbortSignal; bodyTimeoutMs?: number; headersTimeoutMs?: number } = {},
  ): Promise<ControlResponse> {
    const headers: Record<string, string> = { ...bearerHeader(this.options.token), ...init.headers };
    let body: string | undefined;
    if (init.json !== undefined || init.rawJson !== undefined) {
      body = init.rawJson ?? JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    try {
      const response = await request(`${this.baseUrl}${path}`, {
        method,
        headers,
        dispatcher: this.dispatcher,
        bodyTimeout: init.bodyTimeoutMs ?? 30_000,
        ...(init.headersTimeoutMs === undefined ? {} : { headersTimeout: init.headersTimeoutMs }),
        ...(body === undefined ? {} : { body }),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const errno = (error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'error';
      if (isTlsErrorCode(errno)) throw new ControlTlsError(this.origin, errno);
      throw new ControlUnreachableError(this.origin, errno === 'UND_ERR_HEADERS_TIMEOUT' ? 'no answer (timeout)' : errno);
    }
  }

  /** GET/PUT returning parsed JSON (any status: the caller decides). */
  async json(method: 'GET' | 'PUT' | 'POST', path: string, json?: unknown, signal?: AbortSignal, headersTimeoutMs?: number): Promise<{ status: number; body: unknown }> {
    const response = await this.send(method, path, {
      ...(json === undefined ? {} : { json }),
      ...(signal ? { signal } : {}),
      ...(headersTimeoutMs === undefined ? {} : { headersTimeoutMs }),
    });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** `error.message` of an OpenAI-style error body, else a short text. */
export function errorMessageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const message = (body as { error?: { message?: unknown }; reason?: unknown; reasons?: unknown }).error?.message;
    if (typeof message === 'string') return message;
    const reasons = (body as { reasons?: unknown }).reasons;
    if (Array.isArray(reasons) && reasons.every((r) => typeof r === 'string')) return reasons.join('; ');
  }
  return typeof body === 'string' ? body.slice(0, 300) : '';
}
