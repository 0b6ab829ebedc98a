/**
 * All three parties in one process (`permllm generate`, tests, benchmarks): the engine and the
 * dealer run as independent async tasks that share no memory with the gateway; every value
 * crosses between them as an encoded frame on an in-process link. This is the only module that
 * holds all three parties' state, and it only wires them together.
 */
import type { ComputeBackend } from '../compute/compute-backend.js';
import { defaultBackend } from '../compute/onnx-backend.js';
import type { ModelDescription } from '../model/model-description.js';
import { runEngineSession, type EngineSessionSummary } from '../engine/private/engine-session.js';
import { runDealerSession, type DealerSessionSummary } from '../dealer/dealer-session.js';
import { SharedKey } from '../crypto/key-agreement.js';
import { PERMLLM_PROFILE, RING64_PROFILE, type MaskProfile } from '../protocol/masks/mask-profile.js';
import { fixedPointModelOf, type CalibrationOptions, type FixedPointParts } from '../plaintext/fixed-point/calibrate.js';
import { dealerRingWeights, engineRingWeights, maskedRingModel, ringSpecOf } from '../protocol/session/ring-pairing.js';
import { privateWeightsOf, specOf } from '../protocol/model/private-weights.js';
import { assertPrivatelyServable } from '../protocol/model/private-steps.js';
import { assertRingRope } from '../plaintext/fixed-point/ring-attention.js';
import { dealerRoleWeights, engineRoleWeights, maskedModel } from '../protocol/session/pairing.js';
import { roleModel, type RingRoleModel, type RoleModel } from '../protocol/session/role-model.js';
import { localTrust } from '../protocol/session/session-trust.js';
import { pairingIdOf } from '../protocol/transport/pairing-request.js';
import { inProcessLinkPair } from '../protocol/transport/in-process-link.js';
import { privateGenerate, type PrivateGenerationEvent, type PrivateGenerationRequest } from '../gateway/private/private-generation.js';
import type { KeptAttention } from '../protocol/schedule/forward-pass.js';
import type { SessionStateCache } from '../protocol/session/session-state-cache.js';

/** How many dealer frames may wait unread per link (back-pressure bound). */
const DEALER_LINK_CAPACITY = 256;

export interface InProcessParties {
  engine: RoleModel;
  dealer: RoleModel;
  gateway: RoleModel;
  /** Fresh identities of this pairing's engine and dealer, as each party knows them. */
  trust: ReturnType<typeof localTrust>;
  /** ring64 only: the engine's calibrated plan and int16 weights (what the fixed-point oracle runs on). */
  fixedPoint?: FixedPointParts;
}

/** Sets up one pairing: P0 folds its weights, P0 and P2 share a pairing key, P1 gets X − U. */
export function pairInProcess(model: ModelDescription, profile: MaskProfile = PERMLLM_PROFILE, backend: ComputeBackend = defaultBackend()): InProcessParties {
  const weights = privateWeightsOf(model);
  const pairingKey = SharedKey.random();
  const specs = [...weights.values()].map(specOf);
  return {
    engine: { ...roleModel(model.config, engineRoleWeights(weights), profile, backend), finalNormGamma: model.weights.finalNorm },
    dealer: roleModel(model.config, dealerRoleWeights(pairingKey, profile, specs), profile, backend),
    gateway: roleModel(model.config, maskedModel(pairingKey, profile, weights), profile, backend),
    trust: localTrust(pairingIdOf(pairingKey)),
  };
}

/**
 * Sets up one pairing for any profile. ring64 calibrates the fixed-point plan first (async: a
 * float plaintext run), then P0 keeps int16 X, P2 derives the ring mask U, P1 gets X − U.
 */
export async function pairInProcessFor(
  model: ModelDescription,
  profile: MaskProfile = RING64_PROFILE,
  backend: ComputeBackend = defaultBackend(),
  calibration: CalibrationOptions = {},
): Promise<InProcessParties> {
  if (profile.dtype !== 'ring64') return pairInProcess(model, profile, backend);
  assertPrivatelyServable(model.id, model.config, 'ring64');
  assertRingRope(model.config);
  const fixedPoint = await fixedPointModelOf(model, { backend, ...calibration });
  const pairingKey = SharedKey.random();
  const specs = [...fixedPoint.weights.values()].map(ringSpecOf);
  const none = new Map();
  const ring = (weights: RingRoleModel['weights']): RingRoleModel => ({ plan: fixedPoint.plan, weights });
  return {
    engine: { ...roleModel(model.config, none, profile, backend, ring(engineRingWeights(fixedPoint.weights))), finalNormGamma: model.weights.finalNorm },
    dealer: roleModel(model.config, none, profile, backend, ring(dealerRingWeights(pairingKey, specs))),
    gateway: roleModel(model.config, none, profile, backend, ring(maskedRingModel(pairingKey, fixedPoint.weights))),
    trust: localTrust(pairingIdOf(pairingKey)),
    fixedPoint,
  };
}

export interface InProcessRun {
  events: AsyncGenerator<PrivateGenerationEvent>;
  /** Resolves when the engine's and dealer's sides of the session have ended. */
  done: Promise<{ engine: EngineSessionSummary | Error; dealer: DealerSessionSummary | Error }>;
}

/** The engine's and the dealer's kept conversation states (conversation reuse), for in-process runs. */
export interface InProcessStateCaches {
  engine: SessionStateCache<KeptAttention>;
  dealer: SessionStateCache<KeptAttention>;
}

/** The user name the in-process engine files kept states under. */
const IN_PROCESS_USER = 'in-process';

/** One private session across the three in-process parties (`caches`: conversation reuse on the engine and the dealer). */
export function runInProcess(parties: InProcessParties, request: PrivateGenerationRequest, caches?: InProcessStateCaches): InProcessRun {
  const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(DEALER_LINK_CAPACITY);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(DEALER_LINK_CAPACITY);
  const engine = runEngineSession({ gateway: engineToGateway, dealer: engineToDealer }, parties.engine, parties.trust.engine, undefined, caches ? { cache: caches.engine, owner: IN_PROCESS_USER } : undefined).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer, undefined, caches?.dealer).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const events = privateGenerate({ engine: gatewayToEngine, dealer: gatewayToDealer }, parties.gateway, request, parties.trust.gateway);
  return { events, done: Promise.all([engine, dealer]).then(([e, d]) => ({ engine: e, dealer: d })) };
}
