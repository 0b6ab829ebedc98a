/**
 * DNS-rebinding defence for a gateway bound to loopback: a web page on evil.example can make
 * its own name resolve to 127.0.0.1, and the browser then calls the gateway "same-origin",
 * with `Host: evil.example:8080`. Requests whose Host is not one of the allowed names are
 * refused (403 `invalid_host`) before anything else runs.
 */
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../errors/index.js';

/** The names a loopback-bound gateway answers to. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** `[::1]:8080` -> `::1`; `localhost:8080` -> `localhost`; lower-cased, without a trailing dot. */
export function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

export function hostCheck(allowedHosts: readonly string[]): MiddlewareHandler {
  // Allowed entries are bare names ('localhost', '::1', 'gateway.lan'); brackets are tolerated.
  const allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')));
  return async (c, next) => {
    const host = c.req.header('host');
    if (host === undefined || !allowed.has(hostnameOf(host))) {
      throw new ForbiddenError(
        `Host '${host ?? ''}' is not allowed: this gateway answers to ${[...allowed].join(', ')} (DNS-rebinding defence; add names with allowedHosts).`,
        'invalid_host',
      );
    }
    await next();
  };
}
