/**
 * Pairwise keys: X25519 key agreement, then HKDF-SHA256 with domain-separated labels.
 *
 * k02 (engine P0 ↔ dealer P2) and k12 (gateway P1 ↔ dealer P2) are agreed fresh per session;
 * the weight-mask key (P0 ↔ P2) once per pairing. Every mask a party derives from a shared key
 * uses its own label (session, step, tensor), so no keystream is ever used twice.
 */
import { createHmac, createPublicKey, createSecretKey, randomBytes, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { Prg } from './prg.js';

const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
/** HKDF-Expand's block counter for its first (and, at 32 bytes of output, only) block. */
const EXPAND_FIRST_BLOCK = Uint8Array.of(1);

/** One side of an ephemeral X25519 exchange. */
export class KeyExchange {
  private readonly privateKey: KeyObject;
  /** 32 raw public-key bytes, safe to send. */
  readonly publicKey: Uint8Array;

  constructor() {
    const pair = generateKeyPairSync('x25519');
    this.privateKey = pair.privateKey;
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  }

  /**
   * Derives the shared key with a peer's 32-byte public key, bound to `context` (e.g. session id
   * and pair name) and to `transcript` (the digest of the signed handshake statement, as HKDF
   * salt), so that a key can only come out of the exchange both sides signed.
   */
  agree(peerPublicKey: Uint8Array, context: string, transcript: Uint8Array = new Uint8Array(0)): SharedKey {
    if (peerPublicKey.length !== 32) throw new RangeError(`peer public key: expected 32 bytes, got ${peerPublicKey.length}`);
    const peer = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublicKey]), format: 'der', type: 'spki' });
    const secret = diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    if (secret.every((b) => b === 0)) throw new Error('key agreement: peer sent a low-order public key');
    return new SharedKey(new Uint8Array(hkdfSync('sha256', secret, transcript, `permllm/v1/${context}`, 32)));
  }
}

/** A 32-byte secret shared by exactly two parties, from which labelled PRGs are derived. */
export class SharedKey {
  /**
   * HKDF-Extract of the key (RFC 5869 §2.2, empty salt), done once: every subkey is then one
   * HMAC, HKDF-Expand's first block (a party derives several per protocol step, and hkdfSync
   * redid the extract each time, at five times the cost).
   */
  private readonly prk: KeyObject;

  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`shared key: expected 32 bytes, got ${key.length}`);
    this.prk = createSecretKey(createHmac('sha256', Buffer.alloc(32)).update(key).digest());
  }

  /** Fresh random key (for the pairing key, which P0 generates and sends to P2 once). */
  static random(): SharedKey {
    return new SharedKey(new Uint8Array(randomBytes(32)));
  }

  /**
   * Derives the 32-byte subkey for `label`: HKDF-SHA256 with an empty salt and the label as info,
   * L = 32 (RFC 5869: T(1) = HMAC(PRK, info ‖ 0x01)), bit for bit what
   * hkdfSync('sha256', key, '', label, 32) returns.
   */
  subkey(label: string): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.prk).update(label).update(EXPAND_FIRST_BLOCK).digest());
  }

  /** A PRG whose stream is unique to this key and label. */
  prg(label: string): Prg {
    return new Prg(this.subkey(label));
  }

  /** Raw bytes, only for handing the pairing key to the dealer over an authenticated link. */
  exportBytes(): Uint8Array {
    return Uint8Array.from(this.key);
  }
}
