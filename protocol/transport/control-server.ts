/**
 * One listening server per engine or dealer process: the hono control API (model card,
 * health, readiness, metrics, ...) and the protocol's WebSocket endpoint on the same port,
 * over HTTPS/WSS when a certificate and key are given.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerTokenMatches } from './bearer-token.js';
import { attachWsEndpoint, type WsEndpointOptions } from './ws-endpoint.js';

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ControlServerOptions {
  /** The hono app (any `Hono` instance: only its `fetch` is used). */
  app: { fetch: Parameters<typeof serve>[0]['fetch'] };
  host: string;
  port: number;
  tls?: TlsFiles | undefined;
  endpoint: WsEndpointOptions;
}

export interface ControlServer {
  /** http(s)://host:port */
  url: string;
  /** ws(s)://host:port */
  wsUrl: string;
  port: number;
  close(): Promise<void>;
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = (
      options.tls
        ? serve({ fetch: options.app.fetch, hostname: options.host, port: options.port, createServer: createHttpsServer, serverOptions: { cert: options.tls.cert, key: options.tls.key } })
        : serve({ fetch: options.app.fetch, hostname: options.host, port: options.port })
    ) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const endpoint = attachWsEndpoint(server, options.endpoint);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const secure = options.tls !== undefined;
  let closing: Promise<void> | undefined;
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${address.port}`,
    wsUrl: `${secure ? 'wss' : 'ws'}://${host}:${address.port}`,
    port: address.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        endpoint.close();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** Hono middleware: 401 with an OpenAI-style error unless the request carries the bearer token. */
export function requireBearer(token: string | undefined): MiddlewareHandler {
  return async (c: Context, next) => {
    if (!bearerTokenMatches(c.req.header('authorization'), token)) {
      return c.json({ error: { message: 'missing or wrong bearer token', type: 'authentication_error', code: 'invalid_token', param: null } }, 401, { 'www-authenticate': 'Bearer' });
    }
    await next();
  };
}
