/**
 * The server side of protocol links: a WebSocket endpoint on an HTTP(S) server. Every upgrade
 * is checked before it is accepted, in this order: path (404), bearer token (401), then the
 * server's own admission rule (session id syntax, pairing, capacity, replays: 4xx/503). A
 * refused upgrade gets a plain HTTP response with an OpenAI-style JSON error and the socket is
 * closed: no session state exists for it.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerTokenMatches } from './bearer-token.js';

export interface UpgradeRefusal {
  status: number;
  message: string;
}

export interface WsEndpointOptions {
  path: string;
  token: string | undefined;
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
    if (!bearerTokenMatches(request.headers.authorization, options.token)) {
      return refuse(socket, { status: 401, message: 'missing or wrong bearer token' }, url);
    }
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

/** The `onRefused` handler of a server's session endpoint: count it, and log one line. */
export function recordRefusal(metrics: RefusalCounters, log: (line: string) => void): (refusal: UpgradeRefusal) => void {
  return (refusal) => {
    metrics.refused.inc({ status: String(refusal.status) });
    if (refusal.status === 401) metrics.errors.inc({ kind: 'unauthorized' });
    log(`refused a session connection: HTTP ${refusal.status} ${refusal.message}`);
  };
}
