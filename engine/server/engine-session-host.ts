/**
 * The engine's side of session connections. A gateway opens one WebSocket per session
 * (protocol/transport/session-endpoints.ts); the engine then dials the dealer for the same
 * session id and runs `runEngineSession` over the two links. Admission happens before the
 * upgrade (bad ids, a stale pairing, a replayed session id, capacity). Every session has its
 * own abort signal: when any link closes abnormally the session ends at once, and the engine
 * closes its links with a code that tells the other parties why (protocol/transport/close-codes.ts).
 * A misbehaving peer ends only its own session; the process keeps serving.
 *
 * Only a user credential opens a session, and each user has its own cap on concurrent sessions;
 * a session silent for longer than `idleMs` is ended (an idle gateway must not hold a slot).
 * The engine signs its key shares and checks the dealer's under the dealer's accepted identity.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { PeerKey, SigningIdentity } from '../../crypto/identity.js';
import { callerOf, type Authenticator } from '../../protocol/transport/control-server.js';
import { runEngineSession } from '../private/engine-session.js';
import type { KeptAttention } from '../../protocol/schedule/forward-pass.js';
import type { SessionStateCache } from '../../protocol/session/session-state-cache.js';
import type { RoleModel } from '../../protocol/session/role-model.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { LinkClosedError } from '../../protocol/transport/message-link.js';
import { ProtocolViolation, PeerReportedError } from '../../protocol/transport/party-network.js';
import { abortOnAbnormalClose, closeCodeSoon, PeerEndedError } from '../../protocol/transport/peer-ended-error.js';
import { processMallocTrimmer } from '../../observability/malloc-trimmer.js';
import { RecentIds } from '../../protocol/transport/recent-ids.js';
import { dealerSessionUrl, parseSessionQuery } from '../../protocol/transport/session-endpoints.js';
import { guardSessionId } from '../../protocol/transport/session-id-guard.js';
import { connectLink, LinkConnectError } from '../../protocol/transport/ws-connect.js';
import type { UpgradeRefusal } from '../../protocol/transport/ws-endpoint.js';
import { LinkEndedError, WsLink } from '../../protocol/transport/ws-link.js';
import type { EngineMetrics, EngineSessionOutcome } from './engine-metrics.js';

export interface EngineSessionHostOptions {
  model: RoleModel;
  pairingId: string;
  dealerUrl: string;
  /** The dealer's link credential, presented when dialling the dealer. */
  dealerCredential: string | undefined;
  ca: string | undefined;
  identity: SigningIdentity;
  /** The dealer's accepted identity (undefined while not accepted: sessions are refused). */
  dealerKey: () => PeerKey | undefined;
  authenticate: Authenticator;
  onUnknownCredential: () => void;
  /** A session with no frame from the gateway for this long is ended. */
  idleMs: number;
  maxSessions: number;
  maxFrameBytes: number;
  heartbeatMs: number;
  deadPeerMs: number;
  metrics: EngineMetrics;
  log: (line: string) => void;
  /** Called when the dealer does not know this engine's pairing (it restarted): re-pair now. */
  onDealerLostPairing: () => void;
  /**
   * Conversation reuse: where sessions that ask to be kept leave their attention state, for a
   * follow-up session of the same user credential (absent = none kept).
   */
  stateCache?: SessionStateCache<KeptAttention>;
}

interface RunningSession {
  gateway: WsLink;
  dealer?: WsLink;
  controller: AbortController;
  user: string;
  idle: { bytes: number; since: number };
}

const short = (id: string) => `${id.slice(0, 8)}…`;

export class EngineSessionHost {
  private readonly used = new RecentIds();
  private readonly running = new Map<string, RunningSession>();
  private closing = false;
  private readonly users = new Map<string, number>();
  private readonly admitted = new WeakMap<IncomingMessage, string>();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(private readonly options: EngineSessionHostOptions) {
    this.idleTimer = setInterval(() => this.endIdle(), Math.max(50, Math.floor(options.idleMs / 4)));
    this.idleTimer.unref();
  }

  get activeSessions(): number {
    return this.running.size;
  }

  admit(url: URL, request: IncomingMessage): UpgradeRefusal | undefined {
    const caller = callerOf(this.options.authenticate, request.headers.authorization);
    if (caller.kind === 'anonymous' || caller.kind === 'unknown') {
      if (caller.kind === 'unknown') this.options.onUnknownCredential();
      return { status: 401, message: caller.kind === 'unknown' ? 'unknown or revoked credential' : 'a user credential is needed to open a session' };
    }
    if (caller.kind !== 'user') return { status: 403, message: `a ${caller.kind} credential cannot open a session` };
    const query = parseSessionQuery(url);
    if ('error' in query) return { status: 400, message: query.error };
    if (this.closing) return { status: 503, message: 'the engine is shutting down' };
    if (this.options.dealerKey() === undefined) return { status: 503, message: 'the engine has not accepted its dealer\'s identity yet' };
    if (query.pairingId !== this.options.pairingId) {
      return { status: 409, message: `stale pairing: this engine's pairing is ${this.options.pairingId}; fetch the model card and the masked model again` };
    }
    if (this.used.has(query.sessionId) || this.running.has(query.sessionId)) return { status: 409, message: 'session id already used (replayed connection)' };
    if (this.running.size >= this.options.maxSessions) return { status: 503, message: `the engine is busy (${this.running.size} sessions running)` };
    const mine = this.users.get(caller.id) ?? 0;
    if (mine >= caller.maxSessions) return { status: 429, message: `this credential may run ${caller.maxSessions} session(s) at once` };
    this.admitted.set(request, caller.id);
    return undefined;
  }

  private endIdle(): void {
    const now = Date.now();
    for (const [id, session] of this.running) {
      const bytes = session.gateway.bytesReceived;
      if (bytes !== session.idle.bytes) session.idle = { bytes, since: now };
      else if (now - session.idle.since >= this.options.idleMs) {
        this.options.log(`session ${short(id)} ended: no frame from the gateway for ${this.options.idleMs} ms`);
        session.gateway.end(CloseCode.IdleTimeout, `idle for ${this.options.idleMs} ms`);
        session.dealer?.end(CloseCode.PeerEnded, 'the gateway went idle');
        session.controller.abort(new LinkClosedError('the session went idle'));
      }
    }
  }

  onConnection(ws: WebSocket, url: URL, request: IncomingMessage): void {
    const query = parseSessionQuery(url);
    if ('error' in query) {
      ws.close(CloseCode.ProtocolViolation, query.error);
      return;
    }
    const { sessionId } = query;
    const user = this.admitted.get(request) ?? '';
    this.used.add(sessionId);
    const gateway = new WsLink(ws, { peer: 'gateway', ownerCloses: true, heartbeatMs: this.options.heartbeatMs, deadPeerMs: this.options.deadPeerMs });
    const session: RunningSession = { gateway, controller: new AbortController(), user, idle: { bytes: 0, since: Date.now() } };
    this.running.set(sessionId, session);
    this.users.set(user, (this.users.get(user) ?? 0) + 1);
    this.options.metrics.sessionsActive.set(this.running.size);
    processMallocTrimmer().sessionStarted();
    void this.run(sessionId, session).finally(() => {
      this.running.delete(sessionId);
      const left = (this.users.get(user) ?? 1) - 1;
      if (left > 0) this.users.set(user, left);
      else this.users.delete(user);
      this.options.metrics.sessionsActive.set(this.running.size);
      const m = this.options.metrics;
      m.bytes.inc({ peer: 'gateway', direction: 'sent' }, session.gateway.bytesSent);
      m.bytes.inc({ peer: 'gateway', direction: 'received' }, session.gateway.bytesReceived);
      if (session.dealer) {
        m.bytes.inc({ peer: 'dealer', direction: 'sent' }, session.dealer.bytesSent);
        m.bytes.inc({ peer: 'dealer', direction: 'received' }, session.dealer.bytesReceived);
      }
      // The session's shares, frames and tensors are freed: give their pages back once idle (rate-limited).
      processMallocTrimmer().sessionEnded();
    });
  }

  private async run(sessionId: string, session: RunningSession): Promise<void> {
    const { options } = this;
    const { gateway, controller } = session;
    abortOnAbnormalClose(gateway, 'gateway', controller);
    const end = (outcome: EngineSessionOutcome, detail?: string) => {
      options.metrics.sessions.inc({ outcome });
      if (outcome !== 'completed' && outcome !== 'cancelled') options.metrics.errors.inc({ kind: outcome });
      if (detail !== undefined) options.log(`session ${short(sessionId)} ended (${outcome}): ${detail}`);
    };
    try {
      session.dealer = await connectLink(dealerSessionUrl(options.dealerUrl, sessionId, options.pairingId, 'engine'), {
        peer: 'dealer',
        token: options.dealerCredential,
        ca: options.ca,
        maxPayload: options.maxFrameBytes,
        ownerCloses: true,
        heartbeatMs: options.heartbeatMs,
        deadPeerMs: options.deadPeerMs,
        signal: controller.signal,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof LinkConnectError && error.status === 409) options.onDealerLostPairing();
      gateway.end(CloseCode.Unavailable, `engine cannot reach the dealer: ${message}`);
      end(controller.signal.aborted ? 'peer_ended' : 'dealer_unavailable', message);
      return;
    }
    const dealer = session.dealer;
    abortOnAbnormalClose(dealer, 'dealer', controller);
    try {
      const dealerKey = options.dealerKey();
      if (dealerKey === undefined) throw new Error('the dealer\'s identity is no longer accepted');
      const summary = await runEngineSession(
        { gateway: guardSessionId(gateway, 'gateway', sessionId, options.maxFrameBytes, () => gateway.raiseMessageLimit(options.maxFrameBytes)), dealer },
        options.model,
        { pairingId: options.pairingId, identity: options.identity, dealer: dealerKey },
        controller.signal,
        options.stateCache ? { cache: options.stateCache, owner: session.user } : undefined,
      );
      gateway.end(CloseCode.Normal, 'session complete');
      dealer.end(CloseCode.Normal, 'session complete');
      options.metrics.tokens.inc(summary.passes);
      options.metrics.flights.inc(summary.network.clock.depth);
      end('completed');
    } catch (error) {
      const reason = controller.signal.reason;
      if (this.closing) {
        gateway.end(CloseCode.GoingAway, 'engine shutting down');
        dealer.end(CloseCode.GoingAway, 'engine shutting down');
        end('shutdown', 'the engine is shutting down');
      } else if (reason instanceof PeerEndedError) {
        const other = reason.peer === 'gateway' ? dealer : gateway;
        // "Another party ended it" may be the echo of the gateway cancelling: its own close says.
        const cancelled = reason.cancelled || (reason.ended.code === CloseCode.PeerEnded && (await closeCodeSoon(other)) === CloseCode.Cancelled);
        other.end(CloseCode.PeerEnded, `the ${reason.peer} ended the session: ${reason.message}`);
        if (reason.ended.code === CloseCode.ProtocolViolation) end('protocol_violation', reason.message);
        else end(cancelled ? 'cancelled' : 'peer_ended', cancelled ? undefined : reason.message);
      } else if (error instanceof PeerReportedError) {
        // The peer ended its side and said why (an Error frame); its close code follows.
        const sender = error.peer === 'dealer' ? dealer : gateway;
        const other = sender === dealer ? gateway : dealer;
        other.end(CloseCode.PeerEnded, `the ${error.peer} ended the session`);
        const code = await closeCodeSoon(sender);
        sender.end(CloseCode.PeerEnded, 'session ended');
        if (code === CloseCode.Cancelled) end('cancelled');
        else end('peer_ended', error.message);
      } else if (error instanceof ProtocolViolation) {
        const offender = error.peer === 'dealer' ? dealer : gateway;
        const other = offender === dealer ? gateway : dealer;
        offender.end(CloseCode.ProtocolViolation, error.message);
        other.end(CloseCode.PeerEnded, `the ${error.peer} broke the protocol`);
        end('protocol_violation', error.message);
      } else if (error instanceof LinkEndedError || error instanceof LinkClosedError) {
        gateway.end(CloseCode.PeerEnded, error.message);
        dealer.end(CloseCode.PeerEnded, error.message);
        end('peer_ended', error.message);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        gateway.end(CloseCode.SessionFailed, message);
        dealer.end(CloseCode.SessionFailed, message);
        end('failed', message);
      }
    }
  }

  /** Ends every running session (GoingAway) and refuses new ones. */
  close(): void {
    this.closing = true;
    clearInterval(this.idleTimer);
    this.options.stateCache?.clear();
    for (const session of this.running.values()) {
      session.controller.abort(new LinkClosedError('the engine is shutting down'));
      session.gateway.end(CloseCode.GoingAway, 'engine shutting down');
      session.dealer?.end(CloseCode.GoingAway, 'engine shutting down');
    }
  }
}
