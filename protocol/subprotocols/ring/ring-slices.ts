/**
 * The whole-tensor steps of the ring sub-protocols in bounded slices (issue 15): mask generation
 * (the k02/k12 keystreams), the secret permutations π and π⁻¹, and the ring sums x ± y over a
 * step's tensors. At a long prompt's prefill chunk these tensors are the packed causal triangle
 * (some 123,000 words per layer on stories260K at 32 rows, 496 keys), and one step at a party
 * runs several such passes back to back; without yields that is one synchronous stretch of tens
 * of milliseconds per session, and n sessions resuming in one turn hold the event loop n times
 * as long (compute/event-loop-slices.ts).
 *
 * Each helper does its pass in blocks of RING_SLICE_ELEMENTS elements and calls `yieldIfDue()`
 * between blocks. A block is a fraction of a millisecond; the budget check decides whether to
 * yield. The results are bit for bit the synchronous functions' (ringMask, ringAdd, ringSub,
 * Permutation.apply/invert): every element is computed by the same code from the same inputs, and
 * the keystream is read in the same order (an AES-CTR stream read in consecutive pieces is the
 * stream read at once).
 */
import { yieldIfDue } from '../../../compute/event-loop-slices.js';
import { ringAdd, ringSub, type Ring } from '../../../compute/ring64.js';
import type { Prg } from '../../../crypto/prg.js';
import { widenView } from '../../../plaintext/fixed-point/view-width-check.js';
import { ringMask } from '../../masks/ring-masks.js';
import type { Permutation } from '../../permutations/permutation.js';

/** Elements per block: 16,384 words (128 KiB) take some 0.1–0.3 ms per pass on one core. */
export const RING_SLICE_ELEMENTS = 16384;

/** Runs `block(from, to)` over 0 … n in blocks, yielding when the slice is due. */
export async function inRingSlices(n: number, block: (from: number, to: number) => void, size = RING_SLICE_ELEMENTS): Promise<void> {
  for (let from = 0; from < n; from += size) {
    if (from > 0) await yieldIfDue();
    block(from, Math.min(n, from + size));
  }
}

/** ringMask(prg, n, bits), in slices. */
export async function ringMaskInSlices(prg: Prg, n: number, bits = 64): Promise<Ring> {
  if (n <= RING_SLICE_ELEMENTS) return ringMask(prg, n, bits);
  const out = new BigUint64Array(n);
  // The full-ring mask is the keystream itself, read straight into place; a narrowed one (the weak control) block by block.
  const block = bits === 64 ? (from: number, to: number) => prg.fill(new Uint8Array(out.buffer, 8 * from, 8 * (to - from))) : (from: number, to: number) => out.set(ringMask(prg, to - from, bits), from);
  await inRingSlices(n, block);
  return out;
}

/** ringAdd(a, b, out), in slices (out may alias a or b). */
export async function ringAddInSlices(a: Ring, b: Ring, out: Ring = new BigUint64Array(a.length)): Promise<Ring> {
  if (a.length !== b.length || out.length !== a.length) throw new RangeError(`ringAdd: sizes ${a.length}, ${b.length}, ${out.length} differ`);
  await inRingSlices(a.length, (from, to) => ringAdd(a.subarray(from, to), b.subarray(from, to), out.subarray(from, to)));
  return out;
}

/** ringSub(a, b, out), in slices (out may alias a or b). */
export async function ringSubInSlices(a: Ring, b: Ring, out: Ring = new BigUint64Array(a.length)): Promise<Ring> {
  if (a.length !== b.length || out.length !== a.length) throw new RangeError(`ringSub: sizes ${a.length}, ${b.length}, ${out.length} differ`);
  await inRingSlices(a.length, (from, to) => ringSub(a.subarray(from, to), b.subarray(from, to), out.subarray(from, to)));
  return out;
}

/** π(x), in slices. */
export async function applyInSlices<T extends Float64Array | BigUint64Array>(p: Permutation, x: T): Promise<T> {
  const out = p.outputFor(x, 'apply');
  await inRingSlices(x.length, (from, to) => p.applyRange(x, out, from, to));
  return out;
}

/** π⁻¹(y), in slices. */
export async function invertInSlices<T extends Float64Array | BigUint64Array>(p: Permutation, y: T): Promise<T> {
  const out = p.outputFor(y, 'invert');
  await inRingSlices(y.length, (from, to) => p.invertRange(y, out, from, to));
  return out;
}

/** widenView(x, width, what) in place, in slices (the same checks: an out-of-range element throws the same error). */
export async function widenViewInSlices(x: Ring, width: number, what: string): Promise<Ring> {
  await inRingSlices(x.length, (from, to) => widenView(x.subarray(from, to), width, what));
  return x;
}

/** Maps `items` one after another (not concurrently: each map runs its own slices in turn). */
export async function inSequence<T, U>(items: readonly T[], map: (item: T, index: number) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(await map(items[i]!, i));
  return out;
}
