/**
 * Reading a party's view back from the recorded frames, as that party computes it.
 */
import { dataMaskWidth, type TensorFamily } from '../../protocol/masks/mask-profile.js';
import { MessageKind } from '../../protocol/wire/frame.js';
import type { ThreeParties } from './three-party-harness.js';

/** P1's permuted view at Perm/Elem step `step`: the engine's PermOutput (π(x) − B) plus B, re-derived from k12. */
export function gatewayView(h: ThreeParties, step: number, size: number, family: TensorFamily): Float64Array {
  const out = h.messages('engine', 'gateway').find((m) => m.kind === MessageKind.PermOutput && m.step === step);
  if (!out) throw new Error(`no PermOutput for step ${step}`);
  const B = h.k12.prg(`${step}/B`).uniformArray(size, dataMaskWidth(h.profile, family));
  return Float64Array.from(out.parts[0] as Float64Array, (v, i) => v + B[i]!);
}

/**
 * Where each input element went in a permuted view, found by matching values (the inputs are
 * distinct random reals): dest[i] = the j whose view[j] is closest to x[i]. Throws when a match
 * is farther than `tol` or two inputs land on one position.
 */
export function recoverDestinations(x: Float64Array, view: Float64Array, tol: number): Uint32Array {
  const order = Array.from(view.keys()).sort((a, b) => view[a]! - view[b]!);
  const dest = new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let lo = 0;
    let hi = order.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (view[order[mid]!]! < x[i]!) lo = mid + 1;
      else hi = mid;
    }
    const candidates = [order[lo]!, order[Math.max(0, lo - 1)]!];
    const j = candidates.reduce((a, b) => (Math.abs(view[a]! - x[i]!) <= Math.abs(view[b]! - x[i]!) ? a : b));
    if (Math.abs(view[j]! - x[i]!) > tol) throw new Error(`input ${i} (${x[i]}) has no view value within ${tol}`);
    dest[i] = j;
  }
  if (new Set(dest).size !== x.length) throw new Error('recovered destinations are not a permutation');
  return dest;
}
