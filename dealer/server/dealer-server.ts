/**
 * The dealer process (P2): holds engine pairings (the weight masks U), pairs each session's
 * gateway and engine connections by session id, and produces the session's correlated
 * randomness for both, never seeing any online message. One port: control API + protocol
 * endpoint (https/wss with TLS files).
 */
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
  token?: string | undefined;
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
  close(): Promise<void>;
  /** SIGTERM: refuse new sessions, let running ones end for `graceMs`, then close. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startDealerServer(options: DealerServerOptions): Promise<DealerServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} permllm dealer: ${line}\n`));
  const maxFrameBytes = options.maxFrameBytes ?? 1 << 20;
  const metrics = new DealerMetrics();
  const pairings = new PairingRegistry(options.maxPairings ?? 4, options.backend ?? defaultBackend());
  const sessions = new DealerSessionHost(metrics, maxFrameBytes, log);
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
      sessions.start(sessionId, pairing.model, links);
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
  const app = dealerControlApp({ token: options.token, pairings, activeSessions: () => sessions.activeSessions, metrics, log });
  const server = await startControlServer({
    app,
    host: options.host,
    port: options.port,
    tls: options.tls,
    endpoint: {
      path: SESSION_PATH,
      token: options.token,
      maxPayload: maxFrameBytes,
      admit: (url) => {
        if (draining) return { status: 503, message: 'the dealer is shutting down' };
        const query = parseSessionQuery(url);
        if ('error' in query) return { status: 400, message: query.error };
        if (query.role === undefined) return { status: 400, message: 'role must be gateway or engine' };
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
    close,
    shutdown: async (graceMs) => {
      draining = true;
      const deadline = Date.now() + graceMs;
      while (sessions.activeSessions > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      await close();
    },
  };
}
