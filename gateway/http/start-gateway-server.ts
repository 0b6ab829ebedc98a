/**
 * Binds the gateway app to a host and port (port 0 = ephemeral, as tests use) with
 * @hono/node-server. A loopback bind turns the Host check on (DNS-rebinding defence): the
 * loopback names plus `allowedHosts`. Other binds check Host only when `allowedHosts` is given.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { EngineUnavailableError, errorResponse } from '../errors/index.js';
import { buildGateway, type GatewayApp } from '../api/create-gateway-app.js';
import type { GatewayOptions } from '../api/gateway-options.js';
import { waitUntil } from './graceful-shutdown.js';
import { LOOPBACK_HOSTS } from './host-check.js';

export interface GatewayServerOptions extends GatewayOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
}

export interface GatewayServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  /** `url + '/v1'`, what OpenAI clients take as baseURL. */
  baseURL: string;
  host: string;
  port: number;
  gateway: GatewayApp;
  /** Stops accepting, drops open connections (aborting their generations) and resolves when closed. */
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): stop accepting connections, refuse new generations with 503 and
   * answer /readyz "shutting down", let in-flight requests finish for `graceMs`, then end the
   * rest (streams with an error frame, given up to a second to flush) and close.
   */
  shutdown(graceMs: number): Promise<{ ended: number }>;
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}

/** A bound port whose backend is not there yet (the engine unreachable and nothing cached). */
export interface PendingGatewayServer {
  url: string;
  baseURL: string;
  port: number;
  /** Starts serving the real gateway on the same socket (no moment without a listener). */
  serve(options: GatewayOptions): Promise<GatewayServer>;
  close(): Promise<void>;
}

/**
 * Binds the gateway's port before its backend exists: /healthz answers 200, /readyz 503 with
 * `waiting()` as the reason, every other route 503 `engine_unavailable` with Retry-After, until
 * `serve` swaps the real app in. So an orchestrator sees a live, not-ready gateway, and says why.
 */
export async function listenForGateway(options: { host?: string; port?: number; waiting: () => string }): Promise<PendingGatewayServer> {
  const { host = '127.0.0.1', port = 8080 } = options;
  const pending = new Hono();
  pending.get('/healthz', (c) => c.json({ status: 'ok' }));
  pending.get('/readyz', (c) => c.json({ ready: false, reasons: [options.waiting()] }, 503, { 'retry-after': '5' }));
  pending.all('*', () => errorResponse(new EngineUnavailableError(`The gateway is not ready: ${options.waiting()}.`)));
  let handler: (request: Request) => Response | Promise<Response> = (request) => pending.fetch(request);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: (request) => handler(request), hostname: host, port }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    port: address.port,
    serve: async (gatewayOptions) => {
      const started = serveOn(server, url, host, gatewayOptions);
      handler = started.gateway.app.fetch;
      return started;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const { host = '127.0.0.1', port = 8080, ...gatewayOptions } = options;
  const pending = await listenForGateway({ host, port, waiting: () => 'starting' });
  try {
    return await pending.serve(gatewayOptions);
  } catch (error) {
    await pending.close();
    throw error;
  }
}

/** The gateway app on an already-listening server. */
function serveOn(server: Server, url: string, host: string, gatewayOptions: GatewayOptions): GatewayServer {
  // Loopback binds always answer to the loopback names, plus any names given.
  const allowedHosts = isLoopbackHost(host)
    ? [...new Set([...LOOPBACK_HOSTS, host, ...(gatewayOptions.allowedHosts ?? [])])]
    : gatewayOptions.allowedHosts;
  const gateway = buildGateway({ ...gatewayOptions, ...(allowedHosts === undefined ? {} : { allowedHosts }) });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };
  const idle = () => gateway.admission.inFlight === 0 && gateway.admission.queued === 0;

  return {
    url,
    baseURL: `${url}/v1`,
    host,
    port: address.port,
    gateway,
    close,
    shutdown: async (graceMs) => {
      gateway.shutdown.begin();
      // No new connections; idle keep-alive ones are closed by Node, busy ones finish their request.
      let connectionsClosed = false;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve())).then(() => {
        connectionsClosed = true;
      });
      let ended = 0;
      if (!(await waitUntil(idle, graceMs))) {
        ended = gateway.admission.inFlightRequests + gateway.admission.queuedRequests;
        gateway.shutdown.endInFlight();
        await waitUntil(idle, 1000);
      }
      // Let the last responses (error frames included) reach their sockets before cutting them.
      await waitUntil(() => connectionsClosed, 1000);
      server.closeAllConnections();
      await stopped;
      return { ended };
    },
  };
}
