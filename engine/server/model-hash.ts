/**
 * The model hash: sha256 of the architecture and the γ-folded weights the protocol uses
 * (names, specs, values, biases). Published in the model card so that gateways key their
 * masked-model cache by it and notice when an engine starts serving another model, and used
 * to keep one pairing key per model (a pairing key reused across models would let a gateway
 * subtract two masked models and learn X − X′).
 */
import { createHash } from 'node:crypto';
import type { ModelConfig } from '../../model/model-description.js';
import type { FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import { specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';
import { ringSpecOf } from '../../protocol/session/ring-pairing.js';

const bytesOf = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function modelHashOf(config: ModelConfig, weights: ReadonlyMap<string, PrivateWeight>): string {
  const hash = createHash('sha256');
  const sortedConfig = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  hash.update(JSON.stringify({ version: 1, config: sortedConfig }));
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(JSON.stringify(specOf(w)));
    hash.update(bytesOf(w.data));
    if (w.bias) hash.update(bytesOf(w.bias));
  }
  return hash.digest('hex');
}

/**
 * ring64: the hash of what the engine serves under that profile: the architecture, the public
 * fixed-point plan, and the int16 weights with their blocks (a different model than the float
 * one, so gateways cache the two masked models apart).
 */
export function ringModelHashOf(config: ModelConfig, plan: FixedPointPlan, weights: ReadonlyMap<string, FixedPointWeight>): string {
  const hash = createHash('sha256');
  const sortedConfig = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  hash.update(JSON.stringify({ version: 'ring64/1', config: sortedConfig, plan }));
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(JSON.stringify(ringSpecOf(w)));
    hash.update(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    if (w.bias) hash.update(bytesOf(w.bias));
  }
  return hash.digest('hex');
}
