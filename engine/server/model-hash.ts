/**
 * The model hash: sha256 of the architecture and the γ-folded weights the protocol uses
 * (names, specs, values, biases). Published in the model card so that gateways key their
 * masked-model cache by it and notice when an engine starts serving another model, and used
 * to keep one pairing key per model (a pairing key reused across models would let a gateway
 * subtract two masked models and learn X − X′).
 */
import { createHash } from 'node:crypto';
import type { ModelConfig } from '../../model/model-description.js';
import { specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';

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
