/**
 * How a party learns another's identity key: the engine's and the dealer's `/healthz` carry
 * `identity: {fingerprint, publicKey}` (no credential needed). What is learnt here is only a
 * candidate: it is accepted by the pinning rules (crypto/known-peers.ts), and every session
 * then proves possession of the private key by signing (protocol/session/handshake.ts).
 */
import { PeerKey } from '../../crypto/identity.js';
import type { ControlClient } from './control-client.js';

export interface IdentityBody {
  fingerprint: string;
  /** 32 raw Ed25519 public-key bytes, base64. */
  publicKey: string;
}

export function identityBody(key: PeerKey): IdentityBody {
  return { fingerprint: key.fingerprint, publicKey: key.base64 };
}

/** GET /healthz → the identity key it names (throws when it names none or a malformed one). */
export async function fetchPeerIdentity(client: ControlClient, signal?: AbortSignal): Promise<PeerKey> {
  const { status, body } = await client.json('GET', '/healthz', undefined, signal);
  const identity = (body as { identity?: Partial<IdentityBody> } | undefined)?.identity;
  if (status !== 200 || typeof identity?.publicKey !== 'string') throw new Error(`${client.origin}/healthz names no identity (HTTP ${status})`);
  const key = PeerKey.fromBase64(identity.publicKey);
  if (identity.fingerprint !== key.fingerprint) throw new Error(`${client.origin}/healthz: the fingerprint does not belong to the public key`);
  return key;
}
