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
import { bearerTokenOf } from './bearer-token.js';
import { credentialError, type Principal } from './credentials.js';
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

/** Who sent a request: a recognised principal, nobody (no credential), or an unknown credential. */
export type Caller = Principal | { kind: 'anonymous' } | { kind: 'unknown' };

/** A server's credential check: the bearer secret of an Authorization header → its caller. */
export type Authenticator = (secret: string | undefined) => Caller;

export function callerOf(authenticate: Authenticator, authorization: string | undefined): Caller {
  const secret = bearerTokenOf(authorization);
  return secret === undefined ? { kind: 'anonymous' } : authenticate(secret);
}

/**
 * Hono middleware: lets the request through only when its credential is of one of the `allowed`
 * kinds (401 without a recognised credential, 403 with one of another role). The caller is kept
 * in the context as `caller`. `onUnknown` counts wrong credentials.
 */
export function requireCredential(authenticate: Authenticator, allowed: readonly Principal['kind'][], onUnknown: () => void = () => undefined): MiddlewareHandler {
  return async (c: Context, next) => {
    const caller = callerOf(authenticate, c.req.header('authorization'));
    if (caller.kind === 'anonymous' || caller.kind === 'unknown') {
      if (caller.kind === 'unknown') onUnknown();
      return c.json(credentialError(401, caller.kind === 'unknown' ? 'unknown or revoked credential' : 'this route needs a credential (Authorization: Bearer ...)'), 401, { 'www-authenticate': 'Bearer' });
    }
    if (!allowed.includes(caller.kind)) return c.json(credentialError(403, `a ${caller.kind} credential does not open ${c.req.method} ${c.req.path}`), 403);
    c.set('caller' as never, caller as never);
    await next();
  };
}
