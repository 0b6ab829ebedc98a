/**
 * Opening a protocol link: a WebSocket client (`ws`, compression off, bounded message size,
 * bearer token, optional CA for wss) wrapped in a `WsLink`. Failures before the link opens are
 * `LinkConnectError`s that say whether the peer was unreachable (no HTTP status) or refused
 * the connection (the HTTP status and the peer's message), so callers can tell "engine down"
 * from "wrong token" from "pairing changed".
 */
import WebSocket from 'ws';
import { bearerHeader } from './bearer-token.js';
import { WsLink, type WsLinkOptions } from './ws-link.js';

export class LinkConnectError extends Error {
  override readonly name = 'LinkConnectError';
  constructor(
    /** Who we tried to reach ("engine", "dealer"). */
    readonly peer: string,
    /** scheme://host:port only (paths and queries stay out of messages). */
    readonly origin: string,
    message: string,
    /** The HTTP status of a refused upgrade; undefined when the peer was unreachable. */
    readonly status?: number,
    /** The system error code (ECONNREFUSED, ETIMEDOUT, ...) when unreachable. */
    readonly errno?: string,
  ) {
    super(message);
  }
}

export interface ConnectLinkOptions extends WsLinkOptions {
  token?: string | undefined;
  /** PEM certificate(s) to trust for wss:// (in addition to the system's). */
  ca?: string | Buffer | undefined;
  /** Largest message accepted from the peer. */
  maxPayload: number;
  /** Time allowed for the TCP + TLS + HTTP upgrade (default 10 s). */
  handshakeTimeoutMs?: number;
  signal?: AbortSignal | undefined;
}

export function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(bad url)';
  }
}

/**
 * The masking key of every frame we send: all zeros, which `ws` recognises and skips (it sends
 * the payload as is, and the receiving `ws` skips unmasking). RFC 6455 masks client frames so
 * that a script in a browser cannot make an intercepting proxy cache bytes it chose; a link
 * carries only protocol messages between parties, no browser is on it, and the mask hides
 * nothing (its key travels in the frame header). Masking cost the gateway and the engine
 * seconds of event-loop time per long prompt (ws's per-byte loop over every frame).
 */
function unmasked(mask: Buffer): void {
  mask.fill(0);
}

/** Connects to `url` (ws:// or wss://); resolves when the link is open. */
export function connectLink(url: string, options: ConnectLinkOptions): Promise<WsLink> {
  const { token, ca, maxPayload, handshakeTimeoutMs = 10_000, signal, ...linkOptions } = options;
  const origin = originOf(url);
  return new Promise<WsLink>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const ws = new WebSocket(url, {
      headers: bearerHeader(token),
      perMessageDeflate: false,
      maxPayload,
      handshakeTimeout: handshakeTimeoutMs,
      generateMask: unmasked,
      ...(ca === undefined ? {} : { ca }),
    });
    const link = new WsLink(ws, linkOptions);
    let settled = false;
    const fail = (error: LinkConnectError) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      ws.terminate();
      reject(error);
    };
    const onAbort = () => fail(new LinkConnectError(options.peer, origin, `connecting to the ${options.peer} was cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(link);
    });
    ws.once('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < 4096) chunks.push(chunk);
        size += chunk.length;
      });
      const done = () => {
        const status = response.statusCode ?? 0;
        const detail = refusalMessage(Buffer.concat(chunks).subarray(0, 4096).toString('utf8'));
        request.destroy();
        fail(new LinkConnectError(options.peer, origin, `the ${options.peer} at ${origin} refused the connection (HTTP ${status})${detail ? `: ${detail}` : ''}`, status));
      };
      response.once('end', done);
      response.once('error', done);
    });
    ws.once('error', (error: NodeJS.ErrnoException) => {
      const errno = error.code;
      fail(new LinkConnectError(options.peer, origin, `the ${options.peer} at ${origin} is unreachable: ${errno ?? error.message}`, undefined, errno ?? 'ECONNFAILED'));
    });
  });
}

/** The `error.message` of a JSON error body, else the text itself. */
function refusalMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: use the text
  }
  return body.trim().slice(0, 300);
}
