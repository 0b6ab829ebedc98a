/**
 * Per-pairing setup under the `ring64` profile (protocol.md, MulW "Setup"): the weight mask U is
 * uniform over Z_2^64, derived from the pairing key that only P0 and P2 hold; P1 receives the
 * masked model X − U as ring elements (8 bytes per parameter, uniform whatever X is); P0 keeps X
 * as int16 (2 bytes per parameter, as two byte planes) and nothing else. P1 and P2 store their
 * ring matrices as eight byte planes (compute/ring-gemm.ts, planarRing): still 8 bytes per
 * parameter, read directly by the exact int32 GEMMs.
 */
import { planarInt16, planarRing } from '../../compute/ring-gemm.js';
import { ringFromIntegers, ringSub } from '../../compute/ring64.js';
import type { SharedKey } from '../../crypto/key-agreement.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import { ringMask } from '../masks/ring-masks.js';
import type { RingRoleWeight, RingWeightSpec } from '../subprotocols/ring/ring-mul-w.js';

export function ringSpecOf(w: FixedPointWeight): RingWeightSpec {
  return { name: w.name, outDim: w.outDim, inDim: w.inDim, blocks: w.blocks.map((b) => ({ ...b })), hasBias: w.bias !== undefined };
}

/** The PRG label of weight `name`'s mask U (the engine's masked-model stream draws the same keystream). */
export function ringMaskLabel(name: string): string {
  return `ring64/U/${name}`;
}

function maskOf(pairingKey: SharedKey, spec: RingWeightSpec) {
  return ringMask(pairingKey.prg(ringMaskLabel(spec.name)), spec.outDim * spec.inDim);
}

/** P0's view: X (int16) and its biases. */
export function engineRingWeights(weights: ReadonlyMap<string, FixedPointWeight>): Map<string, RingRoleWeight> {
  const out = new Map<string, RingRoleWeight>();
  for (const [name, w] of weights) {
    const rw: RingRoleWeight = { spec: ringSpecOf(w), data: planarInt16(w.data, w.outDim, w.inDim) };
    if (w.bias) rw.bias = w.bias;
    out.set(name, rw);
  }
  return out;
}

/** P2's view: U, from the pairing key and the public specs only. */
export function dealerRingWeights(pairingKey: SharedKey, specs: readonly RingWeightSpec[]): Map<string, RingRoleWeight> {
  return new Map(specs.map((spec) => [spec.name, { spec, data: planarRing(maskOf(pairingKey, spec), spec.outDim, spec.inDim) }]));
}

/** The masked model X − U that P0 gives P1. */
export function maskedRingModel(pairingKey: SharedKey, weights: ReadonlyMap<string, FixedPointWeight>): Map<string, RingRoleWeight> {
  const out = new Map<string, RingRoleWeight>();
  for (const [name, w] of weights) {
    const spec = ringSpecOf(w);
    out.set(name, { spec, data: planarRing(ringSub(ringFromIntegers(w.data), maskOf(pairingKey, spec)), spec.outDim, spec.inDim) });
  }
  return out;
}
