/**
 * The networked GenerationBackend: the gateway (P1) runs privateGenerate against a remote
 * engine (P0) and dealer (P2), one session per `generate()` call over fresh WebSockets.
 *
 * Set-up (`RemoteBackend.connect`): fetch the engine's model card (waiting for the engine when
 * nothing is cached yet; starting from the cached card when the engine is down), build the
 * tokenizer from the card, then load the masked model from the cache or download it (progress on
 * stderr, sha256 checked). With `waitForMaskedModel: false` the download runs in the background
 * and readiness says "downloading the masked model (n%)" meanwhile; a failed download is retried
 * (resuming) with a growing delay. A changed pairing at the engine (new pairing key: the engine's
 * state was reset) is noticed by the probes or by the engine refusing a session, and the new
 * masked model is fetched the same way; a different model needs a gateway restart (its tokenizer
 * is served already).
 *
 * Trust: before any session the gateway accepts the engine's and the dealer's identities by its
 * pinning rules (crypto/known-peers.ts); every session then verifies their signatures under
 * exactly those keys before anything that depends on the prompt is sent (handshake.ts). The
 * engine's mask profile must be at least `minProfile` (PROFILE_STRENGTH), at start-up and after
 * every pairing change; a weaker one stops the gateway from serving. The user credential goes
 * to the engine only.
 *
 * Events map one to one, except that privateGenerate's final `stats` event is folded into the
 * `finish` event's ProtocolStats (the contract is: tokens, one finish, end).
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import type { PeerKey } from '../../crypto/identity.js';
import { acceptPeerIdentity, IdentityRefusedError, type PinPolicy } from '../../crypto/known-peers.js';
import { MASK_PROFILES, PERMLLM_PROFILE, profileAtLeast } from '../../protocol/masks/mask-profile.js';
import type { GatewayTrust } from '../../protocol/session/session-trust.js';
import { fetchPeerIdentity } from '../../protocol/transport/peer-identity.js';
import { roleModel, type RoleModel } from '../../protocol/session/role-model.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { ControlClient, ControlUnreachableError } from '../../protocol/transport/control-client.js';
import type { ModelCard } from '../../protocol/transport/model-card.js';
import { DEFAULT_ATTENTION_MODES, type AttentionMode } from '../../protocol/schedule/attention-mode.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { getBfvRuntime } from '../../protocol/token-lookup/seal-runtime.js';
import { EngineUnavailableError, InvalidRequestError } from '../errors/index.js';
import type { EmbeddingRequest, EmbeddingResult, GenerationBackend, GenerationEvent, GenerationRequest, ModelInfo, ProtocolStats, SessionEnd } from '../pipeline/generation-backend.js';
import { privateEmbed } from '../private/private-embedding.js';
import { supportsEmbedding } from '../../protocol/schedule/embedding-pass.js';
import { privateGenerate, type PrivateGenerationRequest, type PrivateSessionStats } from '../private/private-generation.js';
import { ConversationCache, DEFAULT_CONVERSATION_LIMITS, type ConversationMatch } from '../private/conversation-cache.js';
import { ResumeRefusedError } from '../private/resume-refused-error.js';
import { availableMemoryBytes, memoryProblem } from '../../protocol/session/memory-fit.js';
import type { SessionStateCacheLimits } from '../../protocol/session/session-state-cache.js';
import type { ProgressReporter } from './download-progress.js';
import { tokenizerFromCard } from './card-tokenizer.js';
import { MaskedModelStore, type StoredModel } from './masked-model-store.js';
import { classifySessionError } from './remote-errors.js';
import { RemoteHealth, type EngineIdentity } from './remote-health.js';
import { SessionConnector, type SessionConnectorOptions } from './session-connector.js';

export interface RemoteBackendOptions {
  engineUrl: string;
  dealerUrl: string;
  cacheDir: string;
  /** The user credential the engine's operator issued. */
  credential?: string | undefined;
  /** How the engine's and the dealer's identities are pinned. */
  pins: Record<'engine' | 'dealer', PinPolicy>;
  /** The weakest mask profile accepted (default permllm-f64). */
  minProfile?: string;
  /** PEM CA trusted for https/wss engine and dealer URLs. */
  ca?: string | undefined;
  probeIntervalMs?: number;
  heartbeatMs?: number;
  deadPeerMs?: number;
  /** How long `connect` waits for the engine when no model is cached (default: 10 minutes). */
  waitForEngineMs?: number;
  backend?: ComputeBackend;
  log?: (line: string) => void;
  progress?: (label: string, total: number) => ProgressReporter;
  /** Whether `connect` resolves only once the masked model is loaded (default true). */
  waitForMaskedModel?: boolean;
  /** Length buckets of this many tokens for every session (0 / absent = off; private-generation.ts). */
  lengthBucket?: number;
  /**
   * Run every session in this attention mode (protocol/schedule/attention-mode.ts) instead of the
   * fastest the engine's card allows; an engine that does not allow it refuses the session.
   */
  attention?: AttentionMode;
  /**
   * Conversation reuse (gateway/private/conversation-cache.ts): a request whose prompt continues
   * a recent session's prompt + output continues that session's attention state on all three
   * parties instead of prefilling again; the engine and the dealer then learn that the two
   * requests are linked. true = the default limits. Off by default, and always off with length
   * buckets.
   */
  conversationReuse?: boolean | SessionStateCacheLimits;
  /** Memory the gateway may plan for (default: the machine's or the container's; memory-fit.ts). */
  memoryLimitBytes?: number | undefined;
  /** Observer of every session's protocol figures (tests and benchmarks). */
  onSessionStats?: (stats: PrivateSessionStats) => void;
  /** The gateway's MulW products made ahead (private-generation.ts; default on). false: all online (benchmarks' comparison). */
  productsAhead?: boolean;
  /** Tests only (see SessionConnectorOptions). */
  interceptLink?: SessionConnectorOptions['interceptLink'];
  signal?: AbortSignal;
}

interface Loaded {
  card: ModelCard;
  model: RoleModel;
}

function statsOf(s: PrivateSessionStats, maskProfile: string): ProtocolStats {
  return {
    flightsPerToken: s.flightsPerToken,
    bytesToEngine: s.bytesToEngine,
    bytesFromEngine: s.bytesFromEngine,
    dealerBytes: s.dealerBytesToGateway,
    prefillMs: s.prefillMs,
    decodeMs: s.decodeMs,
    maskProfile,
  };
}

/** Fetches `peer`'s identity and accepts it by the pinning rules (throws IdentityRefusedError). */
async function acceptIdentity(peer: 'engine' | 'dealer', client: ControlClient, options: RemoteBackendOptions, log: (line: string) => void): Promise<PeerKey> {
  const key = await fetchPeerIdentity(client, options.signal);
  await acceptPeerIdentity(`${peer} ${client.origin}`, key, options.pins[peer], `--${peer}-fingerprint`, log);
  log(`${peer} identity ${key.fingerprint} accepted`);
  return key;
}

/** Why the card's mask profile is below this gateway's minimum, or undefined. */
function weakProfile(card: ModelCard, options: RemoteBackendOptions): string | undefined {
  const minimum = options.minProfile ?? PERMLLM_PROFILE.name;
  if (profileAtLeast(card.maskProfile, minimum)) return undefined;
  return `the engine runs mask profile ${card.maskProfile}, weaker than this gateway's minimum ${minimum}: refused (only --min-profile ${card.maskProfile} would accept it)`;
}

const sameModel = (a: ModelCard, b: ModelCard) =>
  a.modelHash === b.modelHash &&
  a.id === b.id &&
  a.maskProfile === b.maskProfile &&
  JSON.stringify(a.config) === JSON.stringify(b.config) &&
  JSON.stringify(a.tokenizer) === JSON.stringify(b.tokenizer);

export class RemoteBackend implements GenerationBackend {
  readonly modelInfo: ModelInfo;
  /** The card of the model this gateway serves (its tokenizer is fixed at start-up). */
  private readonly baseCard: ModelCard;
  private loaded: Loaded | undefined;
  private loading: Promise<void> | undefined;
  private loadError: string | undefined;
  private retryAt = 0;
  private retryDelayMs = 5000;
  private fatal: string | undefined;
  private active = 0;
  private closed = false;
  private readonly listeners = new Set<(end: SessionEnd) => void>();
  private readonly connector: SessionConnector;
  private readonly health: RemoteHealth;
  private readonly keys: Partial<Record<'engine' | 'dealer', PeerKey>> = {};
  /** The gateway's halves of recent sessions' attention states (conversation reuse), or undefined when off. */
  readonly conversations: ConversationCache | undefined;

  private constructor(
    card: ModelCard,
    tokenizer: Tokenizer,
    private readonly options: RemoteBackendOptions,
    private readonly store: MaskedModelStore,
    private readonly clients: { engine: ControlClient; dealer: ControlClient },
    private readonly log: (line: string) => void,
  ) {
    this.baseCard = card;
    this.modelInfo = {
      id: card.id,
      created: card.created,
      maxContext: card.config.maxSeqLen,
      tokenizer,
      ...(card.chatTemplate === undefined ? {} : { chatTemplate: card.chatTemplate }),
    };
    this.connector = new SessionConnector({
      engineUrl: options.engineUrl,
      dealerUrl: options.dealerUrl,
      credential: options.credential,
      ca: options.ca,
      heartbeatMs: options.heartbeatMs ?? 1000,
      deadPeerMs: options.deadPeerMs ?? 6000,
      ...(options.interceptLink ? { interceptLink: options.interceptLink } : {}),
    });
    this.health = new RemoteHealth(clients, options.probeIntervalMs ?? 1000, log, (identity) => this.onEngineIdentity(identity));
    const reuse = options.conversationReuse;
    this.conversations = reuse && !options.lengthBucket ? new ConversationCache(reuse === true ? DEFAULT_CONVERSATION_LIMITS : reuse) : undefined;
  }

  /** Fetches the card, loads or downloads the masked model (see the module comment), starts probing. */
  static async connect(options: RemoteBackendOptions): Promise<RemoteBackend> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} permllm gateway: ${line}\n`));
    const engine = new ControlClient(options.engineUrl, { token: options.credential, ca: options.ca });
    const dealer = new ControlClient(options.dealerUrl, { ca: options.ca });
    const store = new MaskedModelStore({ cacheDir: options.cacheDir, engine, log, ...(options.progress ? { progress: options.progress } : {}) });
    try {
      // Identities first: the user credential goes only to an engine whose identity is accepted.
      const keys: Partial<Record<'engine' | 'dealer', PeerKey>> = {};
      for (const [peer, client] of [['engine', engine], ['dealer', dealer]] as const) {
        try {
          keys[peer] = await acceptIdentity(peer, client, options, log);
        } catch (error) {
          if (error instanceof IdentityRefusedError) throw error;
          log(`the ${peer}'s identity is not verified yet (${error instanceof Error ? error.message : String(error)}); sessions wait for it`);
        }
      }
      const card = await RemoteBackend.firstCard(store, engine, options, log);
      if (!MASK_PROFILES[card.maskProfile]) throw new Error(`the engine uses mask profile ${card.maskProfile}, which this gateway does not know`);
      const weak = weakProfile(card, options);
      if (weak) throw new Error(weak);
      const tokenizer = await tokenizerFromCard(card, store.folderFor(card));
      await getBfvRuntime(); // now rather than inside the first session
      const backend = new RemoteBackend(card, tokenizer, options, store, { engine, dealer }, log);
      Object.assign(backend.keys, keys);
      const first = backend.load(card);
      if (options.waitForMaskedModel !== false) {
        await first;
        if (!backend.loaded) throw new Error(backend.loadError ?? 'the masked model could not be loaded');
      }
      await backend.health.check();
      backend.health.start();
      return backend;
    } catch (error) {
      await Promise.all([engine.close(), dealer.close()]);
      throw error;
    }
  }

  private static async firstCard(store: MaskedModelStore, engine: ControlClient, options: RemoteBackendOptions, log: (line: string) => void): Promise<ModelCard> {
    const deadline = Date.now() + (options.waitForEngineMs ?? 600_000);
    let lastLog = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await store.fetchCard(options.signal);
      } catch (error) {
        if (!(error instanceof ControlUnreachableError)) throw error;
        if (attempt === 0) {
          const cached = await store.lastCard();
          if (cached) {
            log(`the engine is unreachable (${error.errno}); starting from the cached model card and masked model`);
            return cached;
          }
        }
        if (Date.now() > deadline) throw new Error(`the engine at ${engine.origin} stayed unreachable (${error.errno})`);
        if (Date.now() - lastLog > 5000) {
          log(`waiting for the engine at ${engine.origin} (${error.errno})`);
          lastLog = Date.now();
        }
        options.signal?.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private toLoaded(stored: StoredModel): Loaded {
    const { card } = stored;
    const ring = card.fixedPoint && stored.ringWeights ? { plan: card.fixedPoint.plan, weights: stored.ringWeights } : undefined;
    const model = roleModel(card.config, stored.weights, MASK_PROFILES[card.maskProfile]!, this.options.backend ?? defaultBackend(), ring);
    model.attentionModes = card.attentionModes ?? DEFAULT_ATTENTION_MODES;
    return { card, model };
  }

  /** The card of the masked model served now (the first card until one is loaded). */
  get card(): ModelCard {
    return this.loaded?.card ?? this.baseCard;
  }

  /** The accepted identity of `peer`: fetched once, accepted by the pinning rules (throws IdentityRefusedError). */
  private async identityOf(peer: 'engine' | 'dealer'): Promise<PeerKey> {
    const known = this.keys[peer];
    if (known) return known;
    const key = await acceptIdentity(peer, this.clients[peer], this.options, this.log);
    this.keys[peer] = key;
    return key;
  }

  /** What this session's signatures must verify under. */
  private async trustFor(card: ModelCard): Promise<GatewayTrust> {
    try {
      return { pairingId: card.pairing.id, engine: await this.identityOf('engine'), dealer: await this.identityOf('dealer') };
    } catch (error) {
      if (error instanceof IdentityRefusedError) {
        this.fatal = error.message;
        this.log(this.fatal);
      }
      throw new EngineUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }

  /** Loads (from the cache) or downloads the masked model for `card`; coalesced, never throws. */
  private load(card: ModelCard): Promise<void> {
    this.loading ??= (async () => {
      const weak = weakProfile(card, this.options);
      if (weak) {
        this.fatal = weak;
        this.log(weak);
        return;
      }
      // Refused before downloading X − U (memory-fit.ts): the gateway holds it whole.
      const copies = this.options.backend?.storedWeightCopies ?? 0;
      const tooLarge = memoryProblem('gateway', card.config, MASK_PROFILES[card.maskProfile]!.dtype, this.options.memoryLimitBytes ?? availableMemoryBytes(), copies);
      if (tooLarge) {
        this.fatal = `cannot serve this model: ${tooLarge} (--memory-limit overrides the detected figure)`;
        this.log(this.fatal);
        return;
      }
      try {
        const stored = await this.store.load(card, this.options.signal);
        const changed = this.loaded !== undefined;
        this.loaded = this.toLoaded(stored);
        this.loadError = undefined;
        this.retryDelayMs = 5000;
        if (changed) this.log(`serving with the new pairing ${card.pairing.id.slice(0, 8)}…`);
      } catch (error) {
        this.loadError = error instanceof Error ? error.message : String(error);
        this.retryAt = Date.now() + this.retryDelayMs;
        this.log(`loading the masked model failed (${this.loadError}); retrying in ${Math.round(this.retryDelayMs / 1000)} s`);
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 300_000);
      }
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private onEngineIdentity(identity: EngineIdentity): void {
    const current = this.loaded?.card;
    if (!current || identity.pairingId !== current.pairing.id || identity.modelHash !== current.modelHash) this.refresh();
  }

  /** Fetches the engine's current card and, when its pairing is new, its masked model (in the background). */
  private refresh(): void {
    if (this.loading || this.fatal || this.closed || Date.now() < this.retryAt) return;
    void (async () => {
      const card = await this.store.fetchCard();
      if (!sameModel(card, this.baseCard)) {
        this.fatal = `the engine now serves another model (${card.id}, ${card.modelHash.slice(0, 12)}…); restart the gateway to serve it`;
        this.log(this.fatal);
        return;
      }
      if (card.pairing.id === this.loaded?.card.pairing.id) return;
      if (this.loaded) this.log('the engine\'s pairing changed; fetching its new masked model');
      await this.load(card);
    })().catch((error: unknown) => this.log(`checking the engine's model card failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  readiness(): { ready: boolean; reason?: string; protection?: { maskProfile: string; minProfile: string } } {
    const protection = { maskProfile: this.card.maskProfile, minProfile: this.options.minProfile ?? PERMLLM_PROFILE.name };
    return { ...this.readinessState(), protection };
  }

  private readinessState(): { ready: boolean; reason?: string } {
    if (this.fatal) return { ready: false, reason: this.fatal };
    if (this.loading) {
      const p = this.store.progress;
      const what = this.loaded ? 'the new masked model' : 'the masked model';
      return { ready: false, reason: `${p ? 'downloading' : 'loading'} ${what}${p ? ` (${Math.floor((100 * p.done) / p.total)}%)` : ''}` };
    }
    if (!this.loaded) return { ready: false, reason: `masked model not downloaded yet${this.loadError ? `: ${this.loadError}` : ''}` };
    const reason = this.health.reason;
    return reason === undefined ? { ready: true } : { ready: false, reason };
  }

  get activeSessions(): number {
    return this.active;
  }

  onSessionEnd(listener: (end: SessionEnd) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async *generate(request: GenerationRequest): AsyncGenerator<GenerationEvent, void, undefined> {
    if (this.fatal) throw new EngineUnavailableError(this.fatal);
    if (this.loading || !this.loaded) throw new EngineUnavailableError(this.readiness().reason ?? 'the masked model is not loaded');
    const loaded = this.loaded;
    const trust = await this.trustFor(loaded.card);
    const match = this.conversations?.take(request.promptTokens, loaded.card.pairing.id);
    if (match) {
      try {
        yield* this.session(request, loaded, trust, match);
        return;
      } catch (error) {
        // Thrown before any event: run the request afresh.
        if (!(error instanceof ResumeRefusedError)) throw error;
        this.log(`conversation reuse refused (${error.message}); prefilling afresh`);
      }
    }
    yield* this.session(request, loaded, trust, undefined);
  }

  /** One session over fresh WebSockets; `match`: continue that kept conversation state. */
  private async *session(request: GenerationRequest, loaded: Loaded, trust: GatewayTrust, match: ConversationMatch | undefined): AsyncGenerator<GenerationEvent, void, undefined> {
    const { card, model } = loaded;
    const session = this.connector.open(card.pairing.id, card.maxFrameBytes, request.signal);
    this.active++;
    let reason: SessionEnd['reason'] = 'aborted';
    let generatedTokens = 0;
    let completed = false;
    let failure: string | undefined;
    let refused = false;
    const conversations = this.conversations;
    const reuse: Pick<PrivateGenerationRequest, 'keep' | 'resume'> = {};
    if (conversations) reuse.keep = (kept) => conversations.put({ ...kept, pairingId: card.pairing.id });
    if (match) reuse.resume = { sessionId: match.entry.sessionId, length: match.length, kept: match.entry.kept };
    try {
      let finish: Extract<GenerationEvent, { type: 'finish' }> | undefined;
      const events = privateGenerate(session.links, model, {
        promptTokens: request.promptTokens,
        maxTokens: request.maxTokens,
        // OpenAI allows top_p = 0 ("only the most likely token"); the sampler wants (0, 1].
        sampling: { ...request.sampling, topP: Math.max(request.sampling.topP, Number.MIN_VALUE) },
        adjustments: request.adjustments,
        ...(request.topLogprobs === undefined ? {} : { topLogprobs: request.topLogprobs }),
        stopIds: this.modelInfo.tokenizer.eosIds,
        signal: session.signal,
        ...(this.options.lengthBucket ? { lengthBucket: this.options.lengthBucket } : {}),
        ...(this.options.attention ? { attention: this.options.attention } : {}),
        ...(this.options.productsAhead === false ? { productsAhead: false } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
        ...reuse,
      }, trust);
      for await (const event of events) {
        if (event.type === 'stats') {
          completed = true;
          this.options.onSessionStats?.(event.stats);
          if (finish) yield { ...finish, stats: statsOf(event.stats, model.profile.name) };
          finish = undefined;
        } else if (event.type === 'finish') {
          finish = event;
        } else {
          generatedTokens++;
          yield event;
        }
      }
      if (finish) yield finish;
      reason = 'finished';
      this.health.markUp('engine');
      this.health.markUp('dealer');
    } catch (error) {
      if (error instanceof ResumeRefusedError) {
        refused = true;
        throw error;
      }
      if (request.signal.aborted) throw error;
      const failed = this.sessionFailed(session.signal.aborted ? session.signal.reason : error);
      reason = 'error';
      failure = failed.message;
      throw failed;
    } finally {
      // Returned early without an abort (a stop string): privateGenerate ended it as at EOS.
      if (refused) session.end(CloseCode.Normal, 'conversation state not held: starting afresh');
      else if (completed || (failure === undefined && !request.signal.aborted)) session.end(CloseCode.Normal, 'session complete');
      else if (failure === undefined) session.end(CloseCode.Cancelled, 'the gateway cancelled the session');
      else session.end(CloseCode.SessionFailed, failure);
      this.active--;
      if (!refused) {
        const end: SessionEnd = { reason, generatedTokens };
        for (const listener of this.listeners) listener(end);
      }
    }
  }

  /** A session's failure as the client sees it; marks the peer it names down and refreshes a stale pairing. */
  private sessionFailed(cause: unknown): Error {
    const classified = classifySessionError(cause);
    if (classified.down) this.health.markDown(classified.down.peer, classified.down.reason);
    if (classified.stalePairing) this.refresh();
    return classified.error;
  }

  /** One private embedding session (gateway/private/private-embedding.ts): the engine never sees the tokens. */
  async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
    if (this.fatal) throw new EngineUnavailableError(this.fatal);
    if (this.loading || !this.loaded) throw new EngineUnavailableError(this.readiness().reason ?? 'the masked model is not loaded');
    const { card, model } = this.loaded;
    if (!supportsEmbedding(model)) {
      throw new InvalidRequestError(`The engine's mask profile ${model.profile.name} has no embedding pass.`, { code: 'model_not_supported', param: 'model' });
    }
    const trust = await this.trustFor(card);
    const session = this.connector.open(card.pairing.id, card.maxFrameBytes, request.signal);
    this.active++;
    let reason: SessionEnd['reason'] = 'aborted';
    let failure: string | undefined;
    try {
      const result = await privateEmbed(session.links, model, { tokens: request.tokens, signal: session.signal, ...(request.onProgress ? { onProgress: request.onProgress } : {}) }, trust);
      reason = 'finished';
      this.health.markUp('engine');
      this.health.markUp('dealer');
      const s = result.stats;
      return { embedding: result.embedding, stats: { bytesToEngine: s.bytesToEngine, bytesFromEngine: s.bytesFromEngine, dealerBytes: s.dealerBytesToGateway, prefillMs: s.ms, decodeMs: 0, maskProfile: model.profile.name } };
    } catch (error) {
      if (request.signal.aborted) throw error;
      const failed = this.sessionFailed(session.signal.aborted ? session.signal.reason : error);
      reason = 'error';
      failure = failed.message;
      throw failed;
    } finally {
      if (failure !== undefined) session.end(CloseCode.SessionFailed, failure);
      else if (reason === 'finished') session.end(CloseCode.Normal, 'session complete');
      else session.end(CloseCode.Cancelled, 'the gateway cancelled the session');
      this.active--;
      const end: SessionEnd = { reason, generatedTokens: 0 };
      for (const listener of this.listeners) listener(end);
    }
  }

  /** Stops probing and releases the HTTP clients (running sessions end with their requests). */
  async close(): Promise<void> {
    this.closed = true;
    this.health.stop();
    await Promise.all([this.clients.engine.close(), this.clients.dealer.close()]);
  }
}
