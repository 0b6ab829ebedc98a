/**
 * Role credentials (never one shared token): bearer secrets that name what they open.
 *
 *   user      issued by the engine's operator, one per user (engine/server/user-credential-store.ts):
 *             gateway sessions at the engine, the model card and the masked model. Nothing else.
 *   link      the dealer's link credential, handed by the dealer's operator to the engine's
 *             operator: pairing changes and the `engine` side of sessions at the dealer. The
 *             engine accepts it for nothing, so the dealer (which checks it) cannot use it there.
 *   operator  one per server, in its state folder: metrics and administration of that server.
 *
 * Secrets are 256 random bits from node:crypto, base64url, prefixed by their kind (and a user
 * credential's id) so a leaked one can be recognised. Servers keep only SHA-256 digests of user
 * credentials; comparisons hash both sides first (constant time, no length leak).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type CredentialKind = 'user' | 'operator' | 'link';

/** Who a request comes from, once its bearer credential was recognised. */
export type Principal = { kind: 'operator' } | { kind: 'link' } | { kind: 'user'; id: string; name: string; maxSessions: number };

export function newSecret(kind: CredentialKind, id?: string): string {
  return `permllm-${kind}-${id === undefined ? '' : `${id}-`}${randomBytes(32).toString('base64url')}`;
}

export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Whether `given` is the secret whose digest is `expected` (constant time). */
export function matchesDigest(given: string | undefined, expected: Buffer): boolean {
  const same = timingSafeEqual(secretDigest(given ?? ''), expected);
  return given !== undefined && same;
}

/** The secret in `file` (0600), created with a fresh one of `kind` when missing. */
export async function loadOrCreateSecretFile(file: string, kind: CredentialKind): Promise<{ secret: string; created: boolean }> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < 16) throw new Error(`credential file ${file} is damaged (too short); delete it to create a new one`);
    return { secret, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = newSecret(kind);
  const staging = `${file}.${process.pid}.tmp`;
  await writeFile(staging, `${secret}\n`, { mode: 0o600 });
  await chmod(staging, 0o600);
  await rename(staging, file);
  return { secret, created: true };
}

/** Where a server keeps its operator credential. */
export function operatorCredentialFile(stateDir: string): string {
  return path.join(stateDir, 'operator-credential');
}

/** Where the dealer keeps the link credential it expects from its engine (when none is configured). */
export function linkCredentialFile(stateDir: string): string {
  return path.join(stateDir, 'link-credential');
}

/** An OpenAI-style error body for credential refusals. */
export function credentialError(status: 401 | 403, message: string) {
  return { error: { message, type: status === 401 ? 'authentication_error' : 'permission_error', code: status === 401 ? 'invalid_credential' : 'forbidden', param: null } };
}
