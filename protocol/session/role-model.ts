/**
 * What a party needs to run sessions for one model: the public architecture, its own weights
 * (X at P0, X − U at P1, U at P2), the RoPE table and the mask profile.
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import type { ModelConfig } from '../../model/model-description.js';
import { RopeTable } from '../../plaintext/ops/rope.js';
import type { FixedPointPlan } from '../../model/fixed-point/fixed-point-plan.js';
import type { MaskProfile } from '../masks/mask-profile.js';
import type { AttentionMode } from '../schedule/attention-mode.js';
import type { RingViewTap } from './party-context.js';
import type { RoleWeight } from '../subprotocols/mul-w.js';
import type { RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';

/** What a party holds under the ring64 profile: the public fixed-point plan and its ring weights. */
export interface RingRoleModel {
  plan: FixedPointPlan;
  weights: ReadonlyMap<string, RingRoleWeight>;
}

export interface RoleModel {
  config: ModelConfig;
  /** Float profiles' weights (empty under ring64). */
  weights: ReadonlyMap<string, RoleWeight>;
  rope: RopeTable;
  profile: MaskProfile;
  backend: ComputeBackend;
  /** Present exactly when profile.dtype is 'ring64'. */
  ring?: RingRoleModel;
  /**
   * Attention modes (protocol/schedule/attention-mode.ts): at the engine, those its operator
   * allows (absent: DEFAULT_ATTENTION_MODES); at the gateway, those the engine's card allows.
   */
  attentionModes?: readonly AttentionMode[];
  /** Tests only: see PartyContext.ringViewTap. */
  ringViewTap?: RingViewTap;
  /** The engine only: the final norm's weights γ, for the embedding pass (folded into the LM head everywhere else). */
  finalNormGamma?: ArrayLike<number>;
}

export function roleModel(config: ModelConfig, weights: ReadonlyMap<string, RoleWeight>, profile: MaskProfile, backend: ComputeBackend, ring?: RingRoleModel): RoleModel {
  if ((profile.dtype === 'ring64') !== (ring !== undefined)) throw new Error(`role model: profile ${profile.name} ${ring ? 'does not take' : 'needs'} ring weights`);
  const m: RoleModel = { config, weights, rope: RopeTable.forConfig(config), profile, backend };
  if (ring) m.ring = ring;
  return m;
}

/** Largest frame a peer may send for this model: the prefill's biggest message plus slack. */
export function maxFrameBytes(config: ModelConfig): number {
  const n = config.maxSeqLen;
  const biggest = Math.max(n * config.vocabSize, config.nHeads * n * n * 2, 2 * n * config.hiddenDim * 2, n * (config.nHeads + 2 * config.nKvHeads) * config.headDim * 2);
  return 8 * biggest + (64 << 20);
}
