/**
 * Message accounting: bytes per direction (online and offline), frames, and the critical path
 * in one-way flights.
 *
 * Critical path: every party keeps a Lamport-style depth. An online frame is stamped with
 * sender depth + 1; a receiver's depth becomes the max of its own and the frame's. Offline
 * frames (those that depend only on offline data: dealer material, and P1 messages computed
 * from its offline-known shares) carry depth 0 and raise nothing. The largest depth reached is
 * the number of one-way flights on the critical path.
 */
export interface DirectionTotals {
  onlineBytes: number;
  offlineBytes: number;
  frames: number;
}

export class CriticalPathClock {
  depth = 0;
  observe(frameDepth: number): void {
    if (frameDepth > this.depth) this.depth = frameDepth;
  }
  stampOnline(): number {
    return this.depth + 1;
  }
}

export class TrafficMeter {
  readonly sent = new Map<string, DirectionTotals>();
  readonly received = new Map<string, DirectionTotals>();

  private totals(map: Map<string, DirectionTotals>, peer: string): DirectionTotals {
    let t = map.get(peer);
    if (!t) {
      t = { onlineBytes: 0, offlineBytes: 0, frames: 0 };
      map.set(peer, t);
    }
    return t;
  }

  recordSent(peer: string, bytes: number, offline: boolean, frames = 1): void {
    const t = this.totals(this.sent, peer);
    if (offline) t.offlineBytes += bytes;
    else t.onlineBytes += bytes;
    t.frames += frames;
  }

  recordReceived(peer: string, bytes: number, offline: boolean, frames = 1): void {
    const t = this.totals(this.received, peer);
    if (offline) t.offlineBytes += bytes;
    else t.onlineBytes += bytes;
    t.frames += frames;
  }

  /** Total bytes (online + offline) this party sent to / received from `peer`. */
  bytesTo(peer: string): number {
    const t = this.sent.get(peer);
    return t ? t.onlineBytes + t.offlineBytes : 0;
  }
  bytesFrom(peer: string): number {
    const t = this.received.get(peer);
    return t ? t.onlineBytes + t.offlineBytes : 0;
  }
}
