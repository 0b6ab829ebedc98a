/**
 * The dealer process (P2): holds engine pairings (the weight masks U), pairs each session's
 * gateway and engine connections by session id, and produces the session's correlated
 * randomness for both, never seeing any online message. One port: control API + protocol
 * endpoint (https/wss with TLS files).
 *
 * Trust (README "Security"): the dealer's identity (identity.pem), operator credential and link
 * credential live in its state folder (created on first start unless configured). The `engine`
 * side of a session needs the link credential and then the pinned engine's signature; the
 * `gateway` side needs no credential (the gateway never shows its user credential to the
 * dealer, which could otherwise download X − U) but is refused with the link or operator
 * credential, so the engine's operator cannot play a gateway here.
 */
import { DEFAULT_STATE_CACHE_LIMITS, SessionStateCache, type SessionStateCacheLimits } from '../../protocol/session/session-state-cache.js';
import type { KeptAttention } from '../../protocol/schedule/forward-pass.js';
import { SigningIdentity } from '../../crypto/identity.js';
import { knownPeersFile } from '../../crypto/known-peers.js';
import { callerOf, type Authenticator } from '../../protocol/transport/control-server.js';
import { linkCredentialFile, loadOrCreateSecretFile, matchesDigest, operatorCredentialFile, secretDigest } from '../../protocol/transport/credentials.js';
import { recordRefusal } from '../../protocol/transport/ws-endpoint.js';
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { defaultBackend } from '../../compute/onnx-backend.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { startControlServer, type TlsFiles } from '../../protocol/transport/control-server.js';
import { parseSessionQuery, SESSION_PATH } from '../../protocol/transport/session-endpoints.js';
import { WsLink } from '../../protocol/transport/ws-link.js';
import { dealerControlApp } from './dealer-control-app.js';
import { DealerMetrics } from './dealer-metrics.js';
import { DealerSessionHost } from './dealer-session-host.js';
import { PairingRegistry } from './pairing-registry.js';
import { SessionRendezvous } from './session-rendezvous.js';

export interface DealerServerOptions {
  host: string;
  port: number;
  stateDir: string;
  /** The link credential the engine must present (default: `<state>/link-credential`, created when missing). */
  linkCredential?: string | undefined;
  /** The operator credential (default: `<state>/operator-credential`, created when missing). */
  operatorCredential?: string | undefined;
  /** The engine's fingerprint, when pinned by configuration. */
  engineFingerprint?: string | undefined;
  trustOnFirstUse?: boolean;
  /** Largest total size of one pairing's weight masks (default 8 GiB). */
  maxPairingBytes?: number;
  /** A session whose links move nothing this long is ended (default 60 s). */
  idleSessionMs?: number;
  /** Conversation reuse: limits of the kept attention states (default DEFAULT_STATE_CACHE_LIMITS; maxEntries 0 = keep none). */
  stateCache?: SessionStateCacheLimits;
  tls?: TlsFiles | undefined;
  maxSessions?: number;
  maxPairings?: number;
  rendezvousTimeoutMs?: number;
  /** Largest message a party may send the dealer (they only send handshakes). */
  maxFrameBytes?: number;
  heartbeatMs?: number;
  deadPeerMs?: number;
  backend?: ComputeBackend;
  log?: (line: string) => void;
}

export interface DealerServer {
  url: string;
  wsUrl: string;
  port: number;
  metrics: DealerMetrics;
  fingerprint: string;
  close(): Promise<void>;
  /** SIGTERM: refuse new sessions, let running ones end for `graceMs`, then close. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startDealerServer(options: DealerServerOptions): Promise<DealerServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} permllm dealer: ${line}\n`));
  const maxFrameBytes = options.maxFrameBytes ?? 64 << 10;
  const metrics = new DealerMetrics();
  const { identity, file: identityFile, created } = await SigningIdentity.loadOrCreate(options.stateDir);
  log(`${created ? 'created' : 'loaded'} identity ${identity.fingerprint} (${identityFile})`);
  const secret = async (given: string | undefined, file: string, kind: 'operator' | 'link', what: string) => {
    if (given !== undefined) return given;
    const loaded = await loadOrCreateSecretFile(file, kind);
    log(`${loaded.created ? 'created' : 'loaded'} the ${what} (${file})`);
    return loaded.secret;
  };
  const operatorDigest = secretDigest(await secret(options.operatorCredential, operatorCredentialFile(options.stateDir), 'operator', 'operator credential'));
  const linkDigest = secretDigest(await secret(options.linkCredential, linkCredentialFile(options.stateDir), 'link', 'link credential to hand to the engine\'s operator'));
  const authenticate: Authenticator = (given) => {
    if (given === undefined) return { kind: 'anonymous' };
    if (matchesDigest(given, operatorDigest)) return { kind: 'operator' };
    if (matchesDigest(given, linkDigest)) return { kind: 'link' };
    return { kind: 'unknown' };
  };
  const pairings = new PairingRegistry(options.maxPairings ?? 4, options.backend ?? defaultBackend(), options.maxPairingBytes);
  const sessions = new DealerSessionHost(metrics, maxFrameBytes, log, options.idleSessionMs ?? 60_000, new SessionStateCache<KeptAttention>(options.stateCache ?? DEFAULT_STATE_CACHE_LIMITS));
  const rendezvous = new SessionRendezvous({
    timeoutMs: options.rendezvousTimeoutMs ?? 10_000,
    maxSessions: options.maxSessions ?? 16,
    running: () => sessions.activeSessions,
    onPaired: (sessionId, pairingId, links) => {
      const pairing = pairings.get(pairingId);
      if (!pairing) {
        for (const link of Object.values(links)) link.end(CloseCode.Unavailable, 'the dealer no longer holds this pairing');
        return;
      }
      sessions.start(sessionId, pairing.model, links, { pairingId, identity, engine: pairing.engine });
    },
    onTimeout: (sessionId, missing) => {
      metrics.sessions.inc({ outcome: 'rendezvous_timeout' });
      metrics.errors.inc({ kind: 'rendezvous_timeout' });
      log(`session ${sessionId.slice(0, 8)}… ended (rendezvous_timeout): the ${missing} never joined`);
    },
    onAbandoned: (sessionId, role, reason) => {
      metrics.sessions.inc({ outcome: 'peer_ended' });
      log(`session ${sessionId.slice(0, 8)}… ended (peer_ended) before it started: the ${role} left: ${reason}`);
    },
    onWaitingChange: (count) => metrics.sessionsWaiting.set(count),
  });
  let draining = false;
  const app = dealerControlApp({
    authenticate,
    identity,
    enginePin: { pinned: options.engineFingerprint, trustOnFirstUse: options.trustOnFirstUse ?? false, storeFile: knownPeersFile(options.stateDir) },
    pairings,
    activeSessions: () => sessions.activeSessions,
    metrics,
    log,
  });
  const server = await startControlServer({
    app,
    host: options.host,
    port: options.port,
    tls: options.tls,
    endpoint: {
      path: SESSION_PATH,
      maxPayload: maxFrameBytes,
      admit: (url, request) => {
        if (draining) return { status: 503, message: 'the dealer is shutting down' };
        const query = parseSessionQuery(url);
        if ('error' in query) return { status: 400, message: query.error };
        if (query.role === undefined) return { status: 400, message: 'role must be gateway or engine' };
        const caller = callerOf(authenticate, request.headers.authorization);
        if (caller.kind === 'unknown') metrics.errors.inc({ kind: 'unknown_credential' });
        if (query.role === 'engine' && caller.kind !== 'link') {
          return caller.kind === 'anonymous' || caller.kind === 'unknown'
            ? { status: 401, message: 'the engine side of a session needs the dealer\'s link credential' }
            : { status: 403, message: `a ${caller.kind} credential cannot join as the engine` };
        }
        if (query.role === 'gateway' && (caller.kind === 'link' || caller.kind === 'operator')) return { status: 403, message: `a ${caller.kind} credential cannot join as the gateway` };
        if (!pairings.has(query.pairingId)) {
          return query.role === 'engine'
            ? { status: 409, message: 'unknown pairing: the engine must pair with this dealer again' }
            : { status: 503, message: 'the dealer does not hold this pairing (yet): the engine has not paired with it' };
        }
        return rendezvous.admit({ ...query, role: query.role });
      },
      onConnection: (ws, url) => {
        const query = parseSessionQuery(url);
        if ('error' in query || query.role === undefined) {
          ws.close(CloseCode.ProtocolViolation, 'bad session query');
          return;
        }
        const link = new WsLink(ws, { peer: query.role, ownerCloses: true, heartbeatMs: options.heartbeatMs ?? 1000, deadPeerMs: options.deadPeerMs ?? 6000 });
        rendezvous.join({ ...query, role: query.role }, link);
      },
      onRefused: recordRefusal(metrics, log),
    },
  });
  const close = async () => {
    rendezvous.close();
    sessions.close();
    await server.close();
  };
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    port: server.port,
    metrics,
    fingerprint: identity.fingerprint,
    close,
    shutdown: async (graceMs) => {
      draining = true;
      const deadline = Date.now() + graceMs;
      while (sessions.activeSessions > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      await close();
    },
  };
}
