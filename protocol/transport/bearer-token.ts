/**
 * The `Authorization: Bearer <credential>` header of every link (HTTP control APIs and
 * WebSocket upgrades). What a credential opens is decided by its kind (credentials.ts); checks
 * hash both sides before comparing, so neither content nor length leaks through timing.
 */

/** The credential of an `Authorization: Bearer <credential>` header, or undefined. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The header to send, or none when no credential is configured. */
export function bearerHeader(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
