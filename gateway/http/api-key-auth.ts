/**
 * Optional bearer API key. Compared in constant time over SHA-256 digests (equal lengths
 * whatever the client sends, so neither content nor length leaks through timing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AuthenticationError } from '../errors/index.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function apiKeyAuth(apiKey: string): MiddlewareHandler {
  const expected = digest(apiKey);
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) throw new AuthenticationError('Missing API key. Send it as "Authorization: Bearer <key>".');
    if (!timingSafeEqual(digest(match[1]), expected)) throw new AuthenticationError('Incorrect API key provided.');
    await next();
  };
}
