/**
 * The server side of protocol links: a WebSocket endpoint on an HTTP(S) server. Every upgrade
 * is checked before it is accepted, in this order: path (404), then the server's own admission
 * rule: its credential for the role asked for (401/403), session id syntax, pairing, capacity,
 * replays (4xx/503). A
 * refused upgrade gets a plain HTTP response with an OpenAI-style JSON error and the socket is
 * closed: no session state exists for it.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface UpgradeRefusal {
  status: number;
  message: string;
}

export interface WsEndpointOptions {
  path: string;
  /** Largest message accepted from a client (ws closes the link with 1009 beyond). */
  maxPayload: number;
  /** Decides before the upgrade whether this connection may open; undefined admits it. */
  admit(url: URL, request: IncomingMessage): UpgradeRefusal | undefined;
  onConnection(ws: WebSocket, url: URL, request: IncomingMessage): void;
  /** Observer of refused upgrades (logs, metrics). */
  onRefused?(refusal: UpgradeRefusal, url: URL | undefined): void;
}

export interface WsEndpoint {
  /** Drops every open link (1001) and stops accepting. */
  close(): void;
}

export function attachWsEndpoint(server: Server, options: WsEndpointOptions): WsEndpoint {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
  const refuse = (socket: Duplex, refusal: UpgradeRefusal, url: URL | undefined) => {
    options.onRefused?.(refusal, url);
    const body = JSON.stringify({ error: { message: refusal.message, type: refusal.status === 401 ? 'authentication_error' : 'invalid_request_error', code: null, param: null } });
    const extra = refusal.status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    );
  };
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, { status: 400, message: 'bad request URL' }, undefined);
    }
    if (url.pathname !== options.path) return refuse(socket, { status: 404, message: `no WebSocket endpoint at ${url.pathname}` }, url);
    const refusal = options.admit(url, request);
    if (refusal) return refuse(socket, refusal, url);
    wss.handleUpgrade(request, socket, head, (ws) => options.onConnection(ws, url, request));
  };
  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      wss.close();
    },
  };
}

/** The counters every server keeps about refused session connections. */
export interface RefusalCounters {
  refused: { inc(labels: { status: string }): void };
  errors: { inc(labels: { kind: string }): void };
}

/**
 * The `onRefused` handler of a server's session endpoint: count every refusal, and log at most
 * one line per status every `intervalMs` (a flood of refused connections must not flood the log),
 * saying how many were left out.
 */
export function recordRefusal(metrics: RefusalCounters, log: (line: string) => void, intervalMs = 10_000): (refusal: UpgradeRefusal) => void {
  const limited = rateLimitedLog(log, intervalMs);
  return (refusal) => {
    metrics.refused.inc({ status: String(refusal.status) });
    if (refusal.status === 401) metrics.errors.inc({ kind: 'unauthorized' });
    limited(String(refusal.status), `refused a session connection: HTTP ${refusal.status} ${refusal.message}`);
  };
}

/** A log that writes at most one line per key every `intervalMs`, then says how many it dropped. */
export function rateLimitedLog(log: (line: string) => void, intervalMs: number): (key: string, line: string) => void {
  const last = new Map<string, { at: number; dropped: number }>();
  return (key, line) => {
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < intervalMs) {
      seen.dropped++;
      return;
    }
    const dropped = seen?.dropped ?? 0;
    last.set(key, { at: now, dropped: 0 });
    log(dropped > 0 ? `${line} (and ${dropped} more like it in the last ${Math.round((now - seen!.at) / 1000)} s)` : line);
  };
}
