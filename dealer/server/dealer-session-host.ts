/**
 * Runs the dealer's side of paired sessions (`runDealerSession`) over the gateway's and the
 * engine's links. Back-pressure comes from the links: the dealer produces a step's material,
 * `send` waits while the receiver's window is full, so it never runs unboundedly ahead, and
 * a session that ends early drops what was not consumed (material is never reused). Any link
 * closing abnormally ends the session at once; the dealer then closes the other link with a
 * code saying why. A misbehaving peer ends only its own session. A session whose links move no
 * bytes for `idleMs` (nobody consumes its material) is ended, so idle sessions cannot hold slots.
 */
import type { DealerTrust } from '../../protocol/session/session-trust.js';
import { runDealerSession } from '../dealer-session.js';
import type { RoleModel } from '../../protocol/session/role-model.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { LinkClosedError } from '../../protocol/transport/message-link.js';
import { ProtocolViolation, PeerReportedError } from '../../protocol/transport/party-network.js';
import { abortOnAbnormalClose, closeCodeSoon, PeerEndedError } from '../../protocol/transport/peer-ended-error.js';
import type { DealerRole } from '../../protocol/transport/session-endpoints.js';
import { guardSessionId } from '../../protocol/transport/session-id-guard.js';
import type { WsLink } from '../../protocol/transport/ws-link.js';
import type { KeptAttention } from '../../protocol/schedule/forward-pass.js';
import type { SessionStateCache } from '../../protocol/session/session-state-cache.js';
import { processMallocTrimmer } from '../../observability/malloc-trimmer.js';
import type { DealerMetrics, DealerSessionOutcome } from './dealer-metrics.js';

interface RunningSession {
  links: Record<DealerRole, WsLink>;
  controller: AbortController;
  idle: { bytes: number; since: number };
}

const movedBytes = (links: Record<DealerRole, WsLink>) => links.gateway.bytesSent + links.gateway.bytesReceived + links.engine.bytesSent + links.engine.bytesReceived;

const short = (id: string) => `${id.slice(0, 8)}…`;

export class DealerSessionHost {
  private readonly running = new Map<string, RunningSession>();
  private closing = false;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    private readonly metrics: DealerMetrics,
    private readonly maxFrameBytes: number,
    private readonly log: (line: string) => void,
    private readonly idleMs = 60_000,
    /** Conversation reuse: kept attention states (masks of K/V rows), filed by pairing. */
    private readonly stateCache?: SessionStateCache<KeptAttention>,
  ) {
    this.idleTimer = setInterval(() => this.endIdle(), Math.max(50, Math.floor(idleMs / 4)));
    this.idleTimer.unref();
  }

  private endIdle(): void {
    const now = Date.now();
    for (const [id, session] of this.running) {
      const bytes = movedBytes(session.links);
      if (bytes !== session.idle.bytes) session.idle = { bytes, since: now };
      else if (now - session.idle.since >= this.idleMs) {
        this.log(`session ${short(id)} ended: idle for ${this.idleMs} ms`);
        session.links.gateway.end(CloseCode.IdleTimeout, `idle for ${this.idleMs} ms`);
        session.links.engine.end(CloseCode.IdleTimeout, `idle for ${this.idleMs} ms`);
        session.controller.abort(new LinkClosedError('the session went idle'));
      }
    }
  }

  get activeSessions(): number {
    return this.running.size;
  }

  start(sessionId: string, model: RoleModel, links: Record<DealerRole, WsLink>, trust: DealerTrust): void {
    const session: RunningSession = { links, controller: new AbortController(), idle: { bytes: 0, since: Date.now() } };
    this.running.set(sessionId, session);
    this.metrics.sessionsActive.set(this.running.size);
    processMallocTrimmer().sessionStarted();
    void this.run(sessionId, model, session, trust).finally(() => {
      this.running.delete(sessionId);
      this.metrics.sessionsActive.set(this.running.size);
      for (const peer of ['gateway', 'engine'] as const) {
        this.metrics.bytes.inc({ peer, direction: 'sent' }, links[peer].bytesSent);
        this.metrics.bytes.inc({ peer, direction: 'received' }, links[peer].bytesReceived);
      }
      // The session's material and frames are freed: give their pages back once idle (rate-limited).
      processMallocTrimmer().sessionEnded();
    });
  }

  private async run(sessionId: string, model: RoleModel, session: RunningSession, trust: DealerTrust): Promise<void> {
    const { gateway, engine } = session.links;
    const { controller } = session;
    abortOnAbnormalClose(gateway, 'gateway', controller);
    abortOnAbnormalClose(engine, 'engine', controller);
    const end = (outcome: DealerSessionOutcome, detail?: string) => {
      this.metrics.sessions.inc({ outcome });
      if (outcome !== 'completed' && outcome !== 'cancelled') this.metrics.errors.inc({ kind: outcome });
      if (detail !== undefined) this.log(`session ${short(sessionId)} ended (${outcome}): ${detail}`);
    };
    const both = (code: number, message: string) => {
      gateway.end(code, message);
      engine.end(code, message);
    };
    try {
      const summary = await runDealerSession(
        {
          gateway: guardSessionId(gateway, 'gateway', sessionId, this.maxFrameBytes),
          engine: guardSessionId(engine, 'engine', sessionId, this.maxFrameBytes),
        },
        model,
        trust,
        controller.signal,
        this.stateCache,
      );
      this.metrics.passes.inc(summary.passesPrepared);
      const reason = controller.signal.reason;
      if (reason instanceof PeerEndedError) {
        // runDealerSession treats a closed link as the normal end; the close code says otherwise.
        await this.peerEnded(reason, reason.peer === 'gateway' ? engine : gateway, end);
      } else {
        both(CloseCode.Normal, 'session complete');
        end('completed');
      }
    } catch (error) {
      const reason = controller.signal.reason;
      if (this.closing) {
        both(CloseCode.GoingAway, 'dealer shutting down');
        end('shutdown', 'the dealer is shutting down');
      } else if (reason instanceof PeerEndedError) {
        await this.peerEnded(reason, reason.peer === 'gateway' ? engine : gateway, end);
      } else if (error instanceof PeerReportedError) {
        // The peer ended its side and said why (an Error frame); its close code follows.
        const sender = error.peer === 'engine' ? engine : gateway;
        (sender === engine ? gateway : engine).end(CloseCode.PeerEnded, `the ${error.peer} ended the session`);
        const code = await closeCodeSoon(sender);
        sender.end(CloseCode.PeerEnded, 'session ended');
        if (code === CloseCode.Cancelled) end('cancelled');
        else end('peer_ended', error.message);
      } else if (error instanceof ProtocolViolation) {
        const offender = error.peer === 'engine' ? engine : gateway;
        const other = offender === engine ? gateway : engine;
        offender.end(CloseCode.ProtocolViolation, error.message);
        other.end(CloseCode.PeerEnded, `the ${error.peer} broke the protocol`);
        end('protocol_violation', error.message);
      } else if (error instanceof LinkClosedError) {
        both(CloseCode.PeerEnded, error.message);
        end('peer_ended', error.message);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        both(CloseCode.SessionFailed, message);
        end('failed', message);
      }
    }
  }

  /** A peer's abnormal close ended the session: close the other link and record why. */
  private async peerEnded(reason: PeerEndedError, other: WsLink, end: (outcome: DealerSessionOutcome, detail?: string) => void): Promise<void> {
    // "Another party ended it" may be the echo of the gateway cancelling: its own close says.
    const cancelled = reason.cancelled || (reason.ended.code === CloseCode.PeerEnded && (await closeCodeSoon(other)) === CloseCode.Cancelled);
    other.end(CloseCode.PeerEnded, `the ${reason.peer} ended the session: ${reason.message}`);
    if (reason.ended.code === CloseCode.ProtocolViolation) end('protocol_violation', reason.message);
    else end(cancelled ? 'cancelled' : 'peer_ended', cancelled ? undefined : reason.message);
  }

  close(): void {
    this.closing = true;
    clearInterval(this.idleTimer);
    this.stateCache?.clear();
    for (const session of this.running.values()) {
      session.controller.abort(new LinkClosedError('the dealer is shutting down'));
      session.links.gateway.end(CloseCode.GoingAway, 'dealer shutting down');
      session.links.engine.end(CloseCode.GoingAway, 'dealer shutting down');
    }
  }
}
