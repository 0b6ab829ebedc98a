import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyExchange, SharedKey } from './key-agreement.js';

describe('pairwise keys', () => {
  it('subkeys are HKDF-SHA256 (empty salt, the label as info, 32 bytes) bit for bit', () => {
    for (let k = 0; k < 5; k++) {
      const bytes = new Uint8Array(randomBytes(32));
      const key = new SharedKey(bytes);
      for (const label of ['', '0/pi', '17/B2/0', 'permllm/v1/pairing-id', 'ünïcode/label', 'x'.repeat(300)]) {
        expect(Buffer.from(key.subkey(label)).equals(Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), label, 32)))).toBe(true);
      }
    }
  });

  it('both ends of an exchange derive the same key and subkeys; other contexts and labels differ', () => {
    const a = new KeyExchange();
    const b = new KeyExchange();
    const ab = a.agree(b.publicKey, 'session/k02');
    const ba = b.agree(a.publicKey, 'session/k02');
    expect(Buffer.from(ab.exportBytes()).equals(Buffer.from(ba.exportBytes()))).toBe(true);
    expect(Buffer.from(ab.subkey('3/A')).equals(Buffer.from(ba.subkey('3/A')))).toBe(true);
    expect(Buffer.from(ab.subkey('3/A')).equals(Buffer.from(ab.subkey('3/B')))).toBe(false);
    expect(Buffer.from(a.agree(b.publicKey, 'session/k12').exportBytes()).equals(Buffer.from(ab.exportBytes()))).toBe(false);
  });
});
