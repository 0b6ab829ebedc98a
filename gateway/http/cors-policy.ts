/**
 * CORS for browser clients (the official SDK with `dangerouslyAllowBrowser`). The SDK sends
 * `authorization`, `content-type`, a family of `x-stainless-*` headers and sometimes
 * `openai-*` ones; CORS cannot express a prefix wildcard, so each preflight's requested
 * headers are filtered against these patterns and the admitted ones echoed back.
 * Origins: pages served from loopback (http://localhost:*, http://127.0.0.1:*, http://[::1]:*)
 * always; others when listed exactly, or any with `*`.
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { LOOPBACK_HOSTS, hostnameOf } from './host-check.js';

const ALLOWED_HEADER_PATTERNS: readonly RegExp[] = [
  /^authorization$/,
  /^content-type$/,
  /^accept$/,
  /^x-request-id$/,
  /^x-stainless-[a-z0-9-]+$/,
  /^openai-[a-z0-9-]+$/,
];

export const EXPOSED_HEADERS = ['x-request-id', 'x-permllm-stats', 'retry-after', 'x-should-retry'];

export function admittedHeaders(requested: string | undefined): string[] {
  if (!requested) return [];
  return requested
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '' && ALLOWED_HEADER_PATTERNS.some((p) => p.test(h)));
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.includes(hostnameOf(url.host));
  } catch {
    return false;
  }
}

export function corsPolicy(origins: readonly string[]): MiddlewareHandler {
  const anyOrigin = origins.includes('*');
  const origin = anyOrigin
    ? '*'
    : (requestOrigin: string) => (origins.includes(requestOrigin) || isLoopbackOrigin(requestOrigin) ? requestOrigin : null);
  return async (c, next) => {
    const admitted = admittedHeaders(c.req.header('access-control-request-headers'));
    return cors({
      origin,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      // Never empty: hono echoes every requested header when the list is empty.
      allowHeaders: admitted.length > 0 ? admitted : ['content-type'],
      exposeHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    })(c, next);
  };
}
