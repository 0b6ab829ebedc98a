/**
 * The shared bearer token that authenticates every link of a deployment (HTTP control APIs and
 * WebSocket upgrades). Compared in constant time: both sides are hashed to 32 bytes first, so
 * neither the content nor the length of the expected token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Whether the header carries `expected`; always true when no token is configured. */
export function bearerTokenMatches(authorization: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return true;
  const given = bearerTokenOf(authorization);
  const same = timingSafeEqual(digest(given ?? ''), digest(expected));
  return given !== undefined && same;
}

/** The header to send, or none when no token is configured. */
export function bearerHeader(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
