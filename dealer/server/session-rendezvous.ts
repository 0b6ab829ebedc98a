/**
 * Pairs the two connections of one session at the dealer: the gateway's and the engine's, by
 * session id (protocol/transport/session-endpoints.ts). The first to arrive waits at most
 * `timeoutMs` for the other; a session id is accepted once per role and never again after (a
 * replayed connection is refused before the upgrade). Both sides must name the same pairing.
 */
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { RecentIds } from '../../protocol/transport/recent-ids.js';
import type { DealerRole, SessionQuery } from '../../protocol/transport/session-endpoints.js';
import type { UpgradeRefusal } from '../../protocol/transport/ws-endpoint.js';
import type { WsLink } from '../../protocol/transport/ws-link.js';

interface Waiting {
  pairingId: string;
  links: Partial<Record<DealerRole, WsLink>>;
  timer: NodeJS.Timeout;
}

export interface RendezvousOptions {
  timeoutMs: number;
  /** Sessions waiting plus running that may exist at once. */
  maxSessions: number;
  running: () => number;
  onPaired(sessionId: string, pairingId: string, links: Record<DealerRole, WsLink>): void;
  onTimeout(sessionId: string, missing: DealerRole): void;
  /** The side that joined first left before the other arrived. */
  onAbandoned(sessionId: string, role: DealerRole, reason: string): void;
  onWaitingChange(count: number): void;
}

export class SessionRendezvous {
  private readonly waiting = new Map<string, Waiting>();
  private readonly used = new RecentIds();

  constructor(private readonly options: RendezvousOptions) {}

  get waitingCount(): number {
    return this.waiting.size;
  }

  admit(query: SessionQuery & { role: DealerRole }): UpgradeRefusal | undefined {
    const entry = this.waiting.get(query.sessionId);
    if (entry) {
      if (entry.links[query.role]) return { status: 409, message: `the ${query.role} already joined this session` };
      if (entry.pairingId !== query.pairingId) return { status: 409, message: 'the gateway and the engine name different pairings: the gateway must fetch the masked model again' };
      return undefined;
    }
    if (this.used.has(query.sessionId)) return { status: 409, message: 'session id already used (replayed connection)' };
    if (this.waiting.size + this.options.running() >= this.options.maxSessions) return { status: 503, message: 'the dealer is busy' };
    return undefined;
  }

  join(query: SessionQuery & { role: DealerRole }, link: WsLink): void {
    const { sessionId, role } = query;
    let entry = this.waiting.get(sessionId);
    if (!entry) {
      this.used.add(sessionId);
      const timer = setTimeout(() => this.expire(sessionId), this.options.timeoutMs);
      timer.unref();
      entry = { pairingId: query.pairingId, links: {}, timer };
      this.waiting.set(sessionId, entry);
      this.options.onWaitingChange(this.waiting.size);
    }
    entry.links[role] = link;
    const { gateway, engine } = entry.links;
    if (gateway && engine) {
      clearTimeout(entry.timer);
      this.waiting.delete(sessionId);
      this.options.onWaitingChange(this.waiting.size);
      this.options.onPaired(sessionId, entry.pairingId, { gateway, engine });
      return;
    }
    // The first side leaving before the second arrives cancels the rendezvous.
    void link.closed.then((ended) => {
      const current = this.waiting.get(sessionId);
      if (current?.links[role] !== link) return;
      clearTimeout(current.timer);
      this.waiting.delete(sessionId);
      this.options.onWaitingChange(this.waiting.size);
      this.options.onAbandoned(sessionId, role, ended.message);
    });
  }

  private expire(sessionId: string): void {
    const entry = this.waiting.get(sessionId);
    if (!entry) return;
    this.waiting.delete(sessionId);
    this.options.onWaitingChange(this.waiting.size);
    const missing: DealerRole = entry.links.gateway ? 'engine' : 'gateway';
    for (const link of Object.values(entry.links)) link.end(CloseCode.RendezvousTimeout, `the ${missing} did not join the session within ${this.options.timeoutMs} ms`);
    this.options.onTimeout(sessionId, missing);
  }

  close(): void {
    for (const entry of this.waiting.values()) {
      clearTimeout(entry.timer);
      for (const link of Object.values(entry.links)) link.end(CloseCode.GoingAway, 'dealer shutting down');
    }
    this.waiting.clear();
  }
}
