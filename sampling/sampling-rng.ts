import { Prg } from '../crypto/prg.js';

/**
 * The sampler's randomness: reproducible from the user's `seed` (same seed, same prompt, same
 * model: same text), fresh from the operating system without one.
 */
export function samplingRng(seed?: number | bigint | string): Prg {
  return seed === undefined ? Prg.random() : Prg.fromSeed('sampling', seed);
}
