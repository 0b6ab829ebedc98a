/**
 * Masks of the `ring64` profile: uniform over Z_2^64, straight from the PRG keystream (8 bytes
 * per element, little-endian). A value x + r with r uniform on the ring is itself uniform and
 * independent of x: every value the engine receives under this profile hides the data
 * perfectly, not statistically (compare mask-profile.ts's float profiles).
 */
import type { Ring } from '../../compute/ring64.js';
import type { Prg } from '../../crypto/prg.js';

export function ringMask(prg: Prg, n: number): Ring {
  const raw = prg.bytes(8 * n); // a fresh, 8-aligned buffer
  return new BigUint64Array(raw.buffer, raw.byteOffset, n);
}
