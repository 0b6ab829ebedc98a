/**
 * The engine process (P0): loads the model, keeps the pairing with its dealer, serves the
 * control API and the sessions' protocol endpoint on one port (https/wss with TLS files).
 *
 * Start-up: fold the weights (protocol/model/private-weights.ts; under ring64, the default,
 * calibrate the fixed-point plan and quantise to int16 instead), hash the model, load or create
 * the pairing key for (model, dealer) in the state folder, compute the masked model's digest,
 * build the model card, start checking the dealer's pairing, then listen.
 *
 * Trust (README "Security"): the engine's identity (identity.pem) and operator credential are
 * created in the state folder on first start; user credentials come from the operator's
 * `permllm credentials issue` (credentials/users.json, digests only). The dealer's identity is
 * pinned (`dealerPin`), and the dealer's link credential is presented only to the dealer.
 */
import { DEFAULT_STATE_CACHE_LIMITS, SessionStateCache, type SessionStateCacheLimits } from '../../protocol/session/session-state-cache.js';
import type { KeptAttention } from '../../protocol/schedule/forward-pass.js';
import { SigningIdentity } from '../../crypto/identity.js';
import { knownPeersFile } from '../../crypto/known-peers.js';
import { matchesDigest, operatorCredentialFile, secretDigest, loadOrCreateSecretFile } from '../../protocol/transport/credentials.js';
import type { Authenticator } from '../../protocol/transport/control-server.js';
import { userCredentialFile, UserCredentialStore } from './user-credential-store.js';
import { recordRefusal } from '../../protocol/transport/ws-endpoint.js';
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import type { ModelDescription } from '../../model/model-description.js';
import type { MaskProfile } from '../../protocol/masks/mask-profile.js';
import { privateWeightsOf, specOf } from '../../protocol/model/private-weights.js';
import { engineRoleWeights } from '../../protocol/session/pairing.js';
import { engineRingWeights, ringSpecOf } from '../../protocol/session/ring-pairing.js';
import { maxFrameBytes, roleModel, type RoleModel } from '../../protocol/session/role-model.js';
import type { WeightSpec } from '../../protocol/model/private-weights.js';
import { assertPrivatelyServable } from '../../protocol/model/private-steps.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { assertRingRope } from '../../plaintext/fixed-point/ring-attention.js';
import { DEFAULT_ATTENTION_MODES, type AttentionMode } from '../../protocol/schedule/attention-mode.js';
import { createSingleViewState } from '../../protocol/schedule/ring-single-view-layer.js';
import { ControlClient } from '../../protocol/transport/control-client.js';
import { startControlServer, type TlsFiles } from '../../protocol/transport/control-server.js';
import type { FixedPointSpecs, ModelCard } from '../../protocol/transport/model-card.js';
import { PRE_HELLO_FRAME_BYTES, SESSION_PATH } from '../../protocol/transport/session-endpoints.js';
import { getBfvRuntime } from '../../protocol/token-lookup/seal-runtime.js';
import { buildModelCard } from './model-card-builder.js';
import { DealerPairing } from './dealer-pairing.js';
import { engineControlApp } from './engine-control-app.js';
import { EngineMetrics } from './engine-metrics.js';
import { EngineSessionHost } from './engine-session-host.js';
import { assertFitsMemory, availableMemoryBytes } from '../../protocol/session/memory-fit.js';
import { MaskedModelSource, type MaskedModelWeights } from './masked-model-source.js';
import { modelHashOf, ringModelHashOf } from './model-hash.js';
import { loadOrCreatePairingKey } from './pairing-key-store.js';

export interface EngineServerOptions {
  model: ModelDescription;
  profile: MaskProfile;
  dealerUrl: string;
  /** Which dealer the pairing key is kept for (default: the dealer URL's origin). */
  dealerName?: string | undefined;
  host: string;
  port: number;
  stateDir: string;
  /** The dealer's link credential (given by the dealer's operator). */
  dealerCredential?: string | undefined;
  /** The dealer's fingerprint, when pinned by configuration. */
  dealerFingerprint?: string | undefined;
  /** Accept and record the dealer's key on first contact when nothing is pinned. */
  trustOnFirstUse?: boolean;
  /** The operator credential (default: `<state>/operator-credential`, created when missing). */
  operatorCredential?: string | undefined;
  /** A session silent this long is ended (default 60 s). */
  idleSessionMs?: number;
  /** Conversation reuse: limits of the kept attention states (default DEFAULT_STATE_CACHE_LIMITS; maxEntries 0 = keep none). */
  stateCache?: SessionStateCacheLimits;
  tls?: TlsFiles | undefined;
  /** PEM CA to trust for an https dealer. */
  ca?: string | undefined;
  maxSessions?: number;
  heartbeatMs?: number;
  deadPeerMs?: number;
  probeIntervalMs?: number;
  backend?: ComputeBackend;
  log?: (line: string) => void;
  /**
   * Attention modes this engine allows (protocol/schedule/attention-mode.ts), published in the
   * card; default 'beaver' only (the paper's exposure). 'single-view' needs ring64.
   */
  attentionModes?: readonly AttentionMode[];
  /** Memory the engine may plan for (default: the machine's or the container's; memory-fit.ts). */
  memoryLimitBytes?: number | undefined;
}

function engineRingWeightsOf(m: RoleModel): NonNullable<RoleModel['ring']>['weights'] {
  if (!m.ring) throw new Error('not a ring64 model');
  return m.ring.weights;
}

/** What the engine serves under its profile: float folded weights, or ring64's plan and int16 weights. */
type ServedWeights = MaskedModelWeights & { modelHash: string; specs: WeightSpec[]; fixedPoint?: FixedPointSpecs; roleModel: RoleModel };

/**
 * ring64 calibrates the fixed-point plan (a float plaintext run on the calibration text) and
 * keeps only the int16 weights (2 bytes per parameter); the float profiles fold the weights.
 */
async function servedWeightsOf(model: ModelDescription, profile: MaskProfile, backend: ComputeBackend, attentionModes: readonly AttentionMode[]): Promise<ServedWeights> {
  if (profile.dtype === 'ring64') {
    assertPrivatelyServable(model.id, model.config, 'ring64');
    assertRingRope(model.config);
    // The deferred FFN norm (2 flights fewer per layer in the beaver mode) costs weight bits. An
    // engine that allows single-view is used in that mode (the gateway picks the fastest), which
    // has its own deferral and gains nothing from it: plan the finer weights there.
    const { plan, weights } = await fixedPointModelOf(model, { backend, deferFfnNorm: !attentionModes.includes('single-view') });
    const ringSpecs = [...weights.values()].map(ringSpecOf);
    return {
      kind: 'ring',
      weights,
      modelHash: ringModelHashOf(model.config, plan, weights),
      specs: [],
      fixedPoint: { plan, weights: ringSpecs },
      roleModel: { ...roleModel(model.config, new Map(), profile, backend, { plan, weights: engineRingWeights(weights) }), finalNormGamma: model.weights.finalNorm },
    };
  }
  const weights = privateWeightsOf(model);
  return { kind: 'float', weights, modelHash: modelHashOf(model.config, weights), specs: [...weights.values()].map(specOf), roleModel: { ...roleModel(model.config, engineRoleWeights(weights), profile, backend), finalNormGamma: model.weights.finalNorm } };
}

export interface EngineServer {
  url: string;
  wsUrl: string;
  port: number;
  card: ModelCard;
  metrics: EngineMetrics;
  /** The engine's identity fingerprint. */
  fingerprint: string;
  readiness(): { ready: boolean; reason?: string | undefined };
  close(): Promise<void>;
  /** SIGTERM: refuse new sessions (and say so in /readyz), let running ones end for `graceMs`, then close. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startEngineServer(options: EngineServerOptions): Promise<EngineServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} permllm engine: ${line}\n`));
  const { model, profile } = options;
  // First starts of large models take a while: say what is happening, with progress.
  let phaseStarted = performance.now();
  const phaseDone = (what: string) => {
    log(`${what} in ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s`);
    phaseStarted = performance.now();
  };
  const backend = options.backend ?? defaultBackend();
  // Refused before calibration and folding, the engine's peak (memory-fit.ts).
  assertFitsMemory('engine', model.config, profile.dtype, options.memoryLimitBytes ?? availableMemoryBytes(), backend.storedWeightCopies ?? 0);
  const attentionModes = options.attentionModes ?? DEFAULT_ATTENTION_MODES;
  const served = await servedWeightsOf(model, profile, backend, attentionModes);
  const { modelHash } = served;
  phaseDone(served.kind === 'ring'
    ? `calibrated the fixed-point plan and quantised ${served.weights.size} weights to int16 (model ${modelHash.slice(0, 12)}…)`
    : `folded and hashed ${served.weights.size} weights (model ${modelHash.slice(0, 12)}…)`);
  const { identity, file: identityFile, created: identityCreated } = await SigningIdentity.loadOrCreate(options.stateDir);
  log(`${identityCreated ? 'created' : 'loaded'} identity ${identity.fingerprint} (${identityFile})`);
  let operatorSecret = options.operatorCredential;
  if (operatorSecret === undefined) {
    const file = operatorCredentialFile(options.stateDir);
    const loaded = await loadOrCreateSecretFile(file, 'operator');
    operatorSecret = loaded.secret;
    log(`${loaded.created ? 'created' : 'loaded'} the operator credential (${file})`);
  }
  const operatorDigest = secretDigest(operatorSecret);
  const users = new UserCredentialStore(userCredentialFile(options.stateDir));
  log(`${users.count} user credential(s) in ${userCredentialFile(options.stateDir)} (issue one with: permllm credentials issue --state-dir ${options.stateDir} --name NAME)`);
  const authenticate: Authenticator = (secret) => {
    if (secret === undefined) return { kind: 'anonymous' };
    if (matchesDigest(secret, operatorDigest)) return { kind: 'operator' };
    return users.authenticate(secret) ?? { kind: 'unknown' };
  };
  const pairing = await loadOrCreatePairingKey(options.stateDir, modelHash, options.dealerName ?? new URL(options.dealerUrl).origin);
  log(`${pairing.created ? 'created' : 'loaded'} pairing key ${pairing.id.slice(0, 8)}… for this model and dealer (${pairing.file})`);
  const source = new MaskedModelSource(served, pairing.key, profile, { modelHash, pairingId: pairing.id });
  let lastProgress = 0;
  const sha256 = await source.prepare((done, total) => {
    if (performance.now() - lastProgress < 5000) return;
    lastProgress = performance.now();
    log(`computing the masked model's digest: ${Math.floor((100 * done) / total)}% of ${(total / 2 ** 20).toFixed(0)} MiB`);
  });
  phaseDone(`computed the masked model's digest (${(source.totalBytes / 2 ** 20).toFixed(1)} MiB)`);
  const frameLimit = maxFrameBytes(model.config);
  if (attentionModes.includes('single-view')) {
    if (!served.fixedPoint) throw new Error('attention mode single-view needs the ring64 profile');
    createSingleViewState(model.config, served.fixedPoint.plan, engineRingWeightsOf(served.roleModel), 1); // throws when the plan leaves the mode too few bits
  }
  served.roleModel.attentionModes = attentionModes;
  const card = await buildModelCard({
    attentionModes,
    model,
    weights: served.specs,
    ...(served.fixedPoint ? { fixedPoint: served.fixedPoint } : {}),
    profile,
    modelHash,
    pairingId: pairing.id,
    maskedModel: { bytes: source.totalBytes, sha256 },
    maxFrameBytes: frameLimit,
    created: Math.floor(Date.now() / 1000),
  });
  // Build the BFV runtime now, not inside the first session (where it would stall its links).
  await getBfvRuntime();
  phaseDone('built the model card and the BFV runtime');
  const metrics = new EngineMetrics();
  const dealerClient = new ControlClient(options.dealerUrl, { token: options.dealerCredential, ca: options.ca });
  const dealerPairing = new DealerPairing(
    dealerClient,
    {
      pairingKey: Buffer.from(pairing.key.exportBytes()).toString('base64'),
      modelHash,
      profile: profile.name,
      config: { ...model.config },
      weights: served.specs,
      ...(served.fixedPoint ? { fixedPoint: served.fixedPoint } : {}),
    },
    pairing.id,
    options.probeIntervalMs ?? 1000,
    log,
    {
      identity,
      name: `dealer ${options.dealerName ?? new URL(options.dealerUrl).origin}`,
      pin: { pinned: options.dealerFingerprint, trustOnFirstUse: options.trustOnFirstUse ?? false, storeFile: knownPeersFile(options.stateDir) },
    },
    (state) => metrics.dealerReady.set(state.ready ? 1 : 0),
  );
  await dealerPairing.start();
  const maxSessions = options.maxSessions ?? 8;
  const host = new EngineSessionHost({
    model: served.roleModel,
    pairingId: pairing.id,
    dealerUrl: options.dealerUrl,
    dealerCredential: options.dealerCredential,
    ca: options.ca,
    identity,
    dealerKey: () => dealerPairing.dealerKey,
    authenticate,
    onUnknownCredential: () => metrics.errors.inc({ kind: 'unknown_credential' }),
    idleMs: options.idleSessionMs ?? 60_000,
    maxSessions,
    maxFrameBytes: frameLimit,
    heartbeatMs: options.heartbeatMs ?? 1000,
    deadPeerMs: options.deadPeerMs ?? 6000,
    metrics,
    log,
    onDealerLostPairing: () => void dealerPairing.check(),
    stateCache: new SessionStateCache<KeptAttention>(options.stateCache ?? DEFAULT_STATE_CACHE_LIMITS),
  });
  // Not ready while every session slot is taken: gateways (and load balancers) see the engine full.
  let draining = false;
  const readiness = () => {
    if (draining) return { ready: false, reason: 'shutting down' };
    const state = dealerPairing.state;
    if (state.ready && host.activeSessions >= maxSessions) return { ready: false, reason: `at capacity: ${host.activeSessions} of ${maxSessions} sessions running` };
    return state;
  };
  const app = engineControlApp({ authenticate, onUnknownCredential: () => metrics.errors.inc({ kind: 'unknown_credential' }), identity: identity.peer, card, source, readiness, activeSessions: () => host.activeSessions, metrics });
  const server = await startControlServer({
    app,
    host: options.host,
    port: options.port,
    tls: options.tls,
    endpoint: {
      path: SESSION_PATH,
      // Raised to frameLimit per connection once its Hello arrived (engine-session-host.ts).
      maxPayload: PRE_HELLO_FRAME_BYTES,
      admit: (url, request) => (draining ? { status: 503, message: 'the engine is shutting down' } : host.admit(url, request)),
      onConnection: (ws, url, request) => host.onConnection(ws, url, request),
      onRefused: recordRefusal(metrics, log),
    },
  });
  const close = async () => {
    dealerPairing.stop();
    host.close();
    await server.close();
    await dealerClient.close();
  };
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    port: server.port,
    card,
    metrics,
    fingerprint: identity.fingerprint,
    readiness,
    close,
    shutdown: async (graceMs) => {
      draining = true;
      const deadline = Date.now() + graceMs;
      while (host.activeSessions > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      await close();
    },
  };
}
