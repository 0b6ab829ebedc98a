/**
 * Per-pairing setup (protocol.md, MulW "Setup"): the weight masks U are derived from a pairing
 * key that only the engine (P0) and the dealer (P2) hold; the gateway (P1) receives the masked
 * model X − U once and caches it. Each party ends up with its own `RoleWeight` map.
 */
import type { SharedKey } from '../../crypto/key-agreement.js';
import { drawMask, type MaskProfile } from '../masks/mask-profile.js';
import { specOf, type PrivateWeight, type WeightSpec } from '../model/private-weights.js';
import type { RoleWeight } from '../subprotocols/mul-w.js';

function maskOf(pairingKey: SharedKey, profile: MaskProfile, spec: WeightSpec): Float64Array {
  return drawMask(profile, pairingKey.prg(`${profile.name}/U/${spec.name}`), spec.outDim * spec.inDim, profile.weightRatio * spec.scale);
}

/** P0's view: X and its biases. */
export function engineRoleWeights(weights: ReadonlyMap<string, PrivateWeight>): Map<string, RoleWeight> {
  const out = new Map<string, RoleWeight>();
  for (const [name, w] of weights) {
    const rw: RoleWeight = { spec: specOf(w), data: w.data };
    if (w.bias) rw.bias = w.bias;
    out.set(name, rw);
  }
  return out;
}

/** P2's view: U, from the pairing key and the public weight specs only. */
export function dealerRoleWeights(pairingKey: SharedKey, profile: MaskProfile, specs: readonly WeightSpec[]): Map<string, RoleWeight> {
  return new Map(specs.map((spec) => [spec.name, { spec, data: maskOf(pairingKey, profile, spec) }]));
}

/** The masked model X − U that P0 gives P1 (P0 computes it; P1 only ever sees the result). */
export function maskedModel(pairingKey: SharedKey, profile: MaskProfile, weights: ReadonlyMap<string, PrivateWeight>): Map<string, RoleWeight> {
  const out = new Map<string, RoleWeight>();
  for (const [name, w] of weights) {
    const spec = specOf(w);
    const masked = maskOf(pairingKey, profile, spec);
    for (let i = 0; i < masked.length; i++) masked[i] = w.data[i]! - masked[i]!;
    out.set(name, { spec, data: masked });
  }
  return out;
}
