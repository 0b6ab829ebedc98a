/**
 * Masks of the `ring64` profile: uniform over Z_2^64, straight from the PRG keystream (8 bytes
 * per element, little-endian). A value x + r with r uniform on the ring is itself uniform and
 * independent of x: every value the engine receives under this profile hides the data
 * perfectly, not statistically (compare mask-profile.ts's float profiles).
 *
 * The ring64 decisions, and where each lives:
 * - representation: BigUint64Array (wire: frame part type 5; a Perm flight whose plan bound fits
 *   fewer bytes carries only its low bytes, part type 6: protocol/subprotocols/ring/ring-narrowing.ts),
 *   hot loops on 32-bit word pairs (compute/ring64.ts);
 * - exact products: 16-bit limbs through the backend's float64 GEMMs, int16 weights and uint16
 *   limb planes widened inside onnxruntime (compute/ring-gemm.ts);
 * - scales: one public fixed-point plan per model, from ranges measured at load time, with
 *   headroom; MulW adds exponents and the user re-encodes every nonlinear output at the exponent
 *   that lands the next product on the residual's, so nothing is truncated anywhere
 *   (model/fixed-point/fixed-point-plan.ts);
 * - RoPE: folded into the scores' bilinear form with integer coefficients, costing its bits once
 *   (plaintext/fixed-point/ring-attention.ts);
 * - nonlinear steps: decoded, evaluated permutation-invariantly, re-encoded; out-of-range views
 *   end the request (plaintext/fixed-point/fixed-point-elem.ts);
 * - weight mask U: uniform on the ring from the pairing key (protocol/session/ring-pairing.ts).
 */
import type { Ring } from '../../compute/ring64.js';
import type { Prg } from '../../crypto/prg.js';

export function ringMask(prg: Prg, n: number, bits = 64): Ring {
  const raw = prg.bytes(8 * n); // a fresh, 8-aligned buffer
  const out = new BigUint64Array(raw.buffer, raw.byteOffset, n);
  if (bits < 64) narrow(out, bits);
  return out;
}

/** The weak control's masks: uniform on [−2^(bits−1), 2^(bits−1)) (sign-extended from `bits` bits). */
function narrow(a: Ring, bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 63) throw new RangeError(`ringMask bits: ${bits}`);
  const b = BigInt(bits);
  for (let i = 0; i < a.length; i++) a[i] = BigInt.asUintN(64, BigInt.asIntN(Number(b), a[i]!));
}
