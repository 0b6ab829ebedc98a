/**
 * The range check of a narrowed view (model/fixed-point/view-width.ts): a view carried in w < 8
 * bytes per element holds legitimate integers only below 2^(8w − 3) in magnitude.
 * - The user (P1) knows its view mod 2^(8w) only: `widenView` sign-extends it from 8w bits and
 *   applies the check, so values up to 2^(8w − 1) that exceed the plan are detected, as
 *   fixed-point-elem.ts detects values up to 2^63 for full words.
 * - The fixed-point oracle holds the true values: `checkViewWidth` applies the same check to
 *   them, so a value beyond the plan's bound ends the oracle's run where the private run would
 *   end too, and a value the private run could only see wrapped (≥ 2^(8w − 1)) is caught in tests
 *   rather than decoded wrong.
 */
import { words, type Ring } from '../../compute/ring64.js';
import { FULL_VIEW_WIDTH, VIEW_LIMIT_MARGIN_BITS } from '../../model/fixed-point/view-width.js';
import { RingOverflowError } from './fixed-point-elem.js';

const TWO32 = 4294967296;

/** Throws RingOverflowError unless every signed word of `x` lies in [−2^(8w−3), 2^(8w−3)); width 8 checks nothing here (fixed-point-elem.ts does). */
export function checkViewWidth(x: Ring, width: number, what: string): void {
  if (width >= FULL_VIEW_WIDTH) return;
  const limitBits = 8 * width - VIEW_LIMIT_MARGIN_BITS;
  const w = words(x);
  const signed = new Int32Array(w.buffer, w.byteOffset, w.length);
  if (limitBits >= 32) {
    const hiLimit = 2 ** (limitBits - 32);
    for (let i = 0; i < x.length; i++) {
      const hi = signed[2 * i + 1]!;
      if (hi >= hiLimit || hi < -hiLimit) throw new RingOverflowError(what, limitBits);
    }
    return;
  }
  const limit = 2 ** limitBits;
  for (let i = 0; i < x.length; i++) {
    const v = signed[2 * i + 1]! * TWO32 + w[2 * i]!;
    if (v >= limit || v < -limit) throw new RingOverflowError(what, limitBits);
  }
}

/** Sign-extends every word from its low 8w bits, in place (the residue mod 2^(8w) is kept). */
export function signExtendWords(x: Ring, width: number): Ring {
  if (width >= FULL_VIEW_WIDTH) return x;
  const w = words(x);
  const bits = 8 * width;
  if (bits > 32) {
    const shift = 64 - bits; // 8..24
    for (let i = 0; i < x.length; i++) w[2 * i + 1] = ((w[2 * i + 1]! << shift) >> shift) >>> 0;
  } else {
    const shift = 32 - bits; // 0..24
    for (let i = 0; i < x.length; i++) {
      const lo = (w[2 * i]! << shift) >> shift;
      w[2 * i] = lo >>> 0;
      w[2 * i + 1] = lo < 0 ? 0xffffffff : 0;
    }
  }
  return x;
}

/** P1's view of a narrowed Perm: the residue sign-extended, then range-checked. */
export function widenView(x: Ring, width: number, what: string): Ring {
  signExtendWords(x, width);
  checkViewWidth(x, width, what);
  return x;
}
