/**
 * Long-term signing identities of the engine (P0) and the dealer (P2): Ed25519 key pairs from
 * node:crypto, created on first start in the party's state folder (0600 in a 0700 folder) and
 * known to the other parties by fingerprint, "SHA256:" + unpadded base64 of SHA-256 over the
 * 32 raw public-key bytes (the form `ssh-keygen -l` prints). They sign the session key shares
 * (protocol/session/handshake.ts) and the pairing request; nothing else.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The fingerprint of a raw 32-byte Ed25519 public key. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(publicKey).digest('base64').replace(/=+$/, '')}`;
}

/** A syntactically valid fingerprint (as printed by fingerprintOf). */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Someone else's identity: a raw public key, checked to be a valid Ed25519 point. */
export class PeerKey {
  readonly fingerprint: string;
  private readonly key: KeyObject;

  constructor(readonly publicKey: Uint8Array) {
    if (publicKey.length !== 32) throw new RangeError(`identity public key: expected 32 bytes, got ${publicKey.length}`);
    this.key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    this.fingerprint = fingerprintOf(publicKey);
  }

  static fromBase64(text: string): PeerKey {
    return new PeerKey(new Uint8Array(Buffer.from(text, 'base64')));
  }

  get base64(): string {
    return Buffer.from(this.publicKey).toString('base64');
  }

  /** Whether `signature` is this identity's Ed25519 signature of `message`. */
  verifies(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    try {
      return verify(null, message, this.key, signature);
    } catch {
      return false;
    }
  }
}

/** One's own identity: the private key stays inside this object. */
export class SigningIdentity {
  readonly peer: PeerKey;

  private constructor(private readonly privateKey: KeyObject) {
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    this.peer = new PeerKey(new Uint8Array(spki.subarray(spki.length - 32)));
  }

  /** A fresh identity held in memory only (in-process wiring, tests). */
  static generate(): SigningIdentity {
    return new SigningIdentity(generateKeyPairSync('ed25519').privateKey);
  }

  /** `<dir>/identity.pem`, created (0600) when missing. */
  static async loadOrCreate(dir: string): Promise<{ identity: SigningIdentity; file: string; created: boolean }> {
    const file = path.join(dir, 'identity.pem');
    try {
      const pem = await readFile(file, 'utf8');
      const key = createPrivateKey(pem);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
      return { identity: new SigningIdentity(key), file, created: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const staging = `${file}.${process.pid}.tmp`;
    await writeFile(staging, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await chmod(staging, 0o600);
    await rename(staging, file);
    return { identity: new SigningIdentity(privateKey), file, created: true };
  }

  get publicKey(): Uint8Array {
    return this.peer.publicKey;
  }

  get fingerprint(): string {
    return this.peer.fingerprint;
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.privateKey));
  }
}
