/**
 * What a party needs to run sessions for one model: the public architecture, its own weights
 * (X at P0, X − U at P1, U at P2), the RoPE table and the mask profile.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import type { ModelConfig } from '../../model/model-description.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import type { MaskProfile } from '../masks/mask-profile.js';
import type { RoleWeight } from '../subprotocols/mul-w.js';

export interface RoleModel {
  config: ModelConfig;
  weights: ReadonlyMap<string, RoleWeight>;
  rope: RopeTable;
  profile: MaskProfile;
  backend: ComputeBackend;
}

export function roleModel(config: ModelConfig, weights: ReadonlyMap<string, RoleWeight>, profile: MaskProfile, backend: ComputeBackend): RoleModel {
  return { config, weights, rope: RopeTable.forConfig(config), profile, backend };
}

/** Largest frame a peer may send for this model: the prefill's biggest message plus slack. */
export function maxFrameBytes(config: ModelConfig): number {
  const n = config.maxSeqLen;
  const biggest = Math.max(n * config.vocabSize, config.nHeads * n * n * 2, 2 * n * config.hiddenDim * 2, n * (config.nHeads + 2 * config.nKvHeads) * config.headDim * 2);
  return 8 * biggest + (64 << 20);
}
