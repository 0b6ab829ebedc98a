/**
 * The byte strings the engine and the dealer sign at session start (handshake.ts): the
 * handshake version, the statement's label (which party speaks to which, so a signature cannot
 * be moved to another role), the session id, the pairing id, then the statement's own fields,
 * each length-prefixed (u32 big-endian) so no two field lists encode alike.
 */
import { createHash } from 'node:crypto';

/**
 * /2: the engine and the dealer sign their answer to a resume request (conversation reuse), and
 * permutations are drawn from one keystream read (crypto/prg.ts): parties of different versions
 * would derive different π from the same k02, so their signatures must not verify for each other.
 */
export const HANDSHAKE_VERSION = 'permllm-handshake/2';

export type StatementLabel = 'engine-to-gateway' | 'engine-to-dealer' | 'dealer-to-gateway' | 'dealer-to-engine';

export function sessionStatement(label: StatementLabel, sessionId: string, pairingId: string, fields: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [HANDSHAKE_VERSION, label, sessionId, pairingId].map((s) => new Uint8Array(Buffer.from(s, 'utf8')));
  parts.push(...fields);
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32BE(p.length, at);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return new Uint8Array(out);
}

export function digestOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}
