/**
 * The cryptographic pseudo-random generator behind every mask, permutation and seeded
 * sampler: an AES-256-CTR keystream from node:crypto. Never Math.random, never a short seed.
 *
 * A Prg is deterministic in its 32-byte key, so two parties holding the same key (k02 or k12,
 * see key-derivation) derive identical masks without sending them.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

const BLOCK = 64 * 1024;
const TWO_POW_53 = 2 ** 53;
/** The plaintext every keystream block is encrypted from: read, never written, so one for all generators (a PRG per mask label made one 64 KiB buffer each). */
const ZEROS = Buffer.alloc(BLOCK);

export class Prg {
  private readonly cipher;
  private buffer = Buffer.alloc(0);
  private offset = 0;

  /** `key` must be 32 bytes of secret key material. */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`Prg key: expected 32 bytes, got ${key.length}`);
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** A Prg with a fresh random key from the operating system. */
  static random(): Prg {
    return new Prg(randomBytes(32));
  }

  /**
   * A Prg from a user-chosen seed (the OpenAI `seed` parameter): reproducible, not secret.
   * Only for sampling, never for masks. The domain label keeps different uses apart.
   */
  static fromSeed(domain: string, seed: number | bigint | string): Prg {
    return new Prg(createHash('sha256').update(`permllm/seed/${domain}/${String(seed)}`).digest());
  }

  /** Fills and returns `n` pseudo-random bytes (a fresh buffer of its own, 8-byte aligned). */
  bytes(n: number): Buffer {
    const out = Buffer.from(new ArrayBuffer(n));
    this.fill(out);
    return out;
  }

  /**
   * Overwrites `out` with the next out.length keystream bytes: exactly what bytes(out.length)
   * would return, without a buffer of its own (a mask drawn in slices fills its array in place,
   * protocol/subprotocols/ring/ring-slices.ts).
   */
  fill(out: Uint8Array): void {
    const n = out.length;
    // First whatever is left of the last keystream block, then encrypt zeros straight into place.
    const take = Math.min(n, this.buffer.length - this.offset);
    if (take > 0) {
      out.set(this.buffer.subarray(this.offset, this.offset + take), 0);
      this.offset += take;
    }
    if (take < n) {
      const rest = n - take;
      if (rest >= BLOCK) {
        // Whole blocks of encrypted zeros (whatever `out` held: it is overwritten, never encrypted).
        let at = take;
        for (; n - at >= BLOCK; at += BLOCK) out.set(this.cipher.update(ZEROS), at);
        if (at < n) out.set(this.cipher.update(ZEROS.subarray(0, n - at)), at);
      } else {
        this.buffer = this.cipher.update(ZEROS);
        out.set(this.buffer.subarray(0, rest), take);
        this.offset = rest;
      }
    }
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  uniform(): number {
    const b = this.bytes(8);
    const hi = b.readUInt32LE(0) >>> 5; // 27 bits
    const lo = b.readUInt32LE(4) >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** `n` uniform floats in [−halfWidth, halfWidth), 53 random bits each. */
  uniformArray(n: number, halfWidth: number): Float64Array {
    const out = new Float64Array(n);
    const raw = this.bytes(8 * n);
    // Little-endian words straight from the keystream (bytes() returns a fresh, aligned buffer).
    const words = new Uint32Array(raw.buffer, raw.byteOffset, 2 * n);
    const scale = (2 * halfWidth) / TWO_POW_53;
    for (let i = 0; i < n; i++) {
      out[i] = ((words[2 * i]! >>> 5) * 67108864 + (words[2 * i + 1]! >>> 6)) * scale - halfWidth;
    }
    return out;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling on 32-bit words). */
  below(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`Prg.below: bad bound ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.word32();
      if (x < limit) return x % n;
    }
  }

  /**
   * The next 4 keystream bytes as a little-endian uint32: exactly what bytes(4) would return,
   * read in place when the current block holds them (`below` draws one per call, and a fresh
   * Buffer for each was most of a softmax step's time and garbage).
   */
  private word32(): number {
    if (this.buffer.length - this.offset >= 4) {
      const x = this.buffer.readUInt32LE(this.offset);
      this.offset += 4;
      return x;
    }
    return this.bytes(4).readUInt32LE(0);
  }

  /** `n` uniform 32-bit words (little-endian) in one keystream read. */
  words(n: number): Uint32Array {
    const raw = this.bytes(4 * n);
    return new Uint32Array(raw.buffer, raw.byteOffset, n);
  }

  /**
   * A uniformly random permutation of 0..n−1 (Fisher–Yates): perm[i] is where i goes. The swap
   * indices come from one keystream read of n − 1 words (more only for the rare rejected words:
   * each index is unbiased by rejection, as in `below`), not one buffer per element.
   */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    if (n < 2) return p;
    let words = this.words(n - 1);
    let w = 0;
    for (let i = n - 1; i > 0; i--) {
      const bound = i + 1;
      const limit = 4294967296 - (4294967296 % bound);
      let x: number;
      for (;;) {
        if (w === words.length) {
          words = this.words(Math.max(16, i));
          w = 0;
        }
        x = words[w++]!;
        if (x < limit) break;
      }
      const j = x % bound;
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
