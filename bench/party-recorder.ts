/**
 * What one party did on its links, recorded by wrapping each of its MessageLinks: every
 * interval it spent blocked (in receive(), or in send() under back-pressure), which peer it
 * waited for, and every frame it sent or took delivery of. The time-split analysis
 * (time-split.ts) works from these records alone.
 */
import type { MessageLink } from '../protocol/transport/message-link.js';
import type { PartyName } from '../protocol/transport/party-network.js';
import { censusOf, type FrameCensus } from './frame-census.js';

export interface WaitInterval {
  start: number;
  end: number;
  peer: PartyName;
  /** receive: waiting for the peer's frame; send: held by back-pressure. */
  op: 'receive' | 'send';
  /** For receives: the kinds of message in the frame that ended the wait. */
  awaited?: string;
}

export interface FrameRecord {
  /** performance.now() when sent, or when the party took delivery. */
  time: number;
  peer: PartyName;
  direction: 'sent' | 'received';
  bytes: number;
  census: FrameCensus;
}

export class PartyRecorder {
  readonly waits: WaitInterval[] = [];
  readonly frames: FrameRecord[] = [];

  constructor(readonly party: PartyName) {}

  /** Wraps this party's end of the link to `peer`. */
  wrap(inner: MessageLink, peer: PartyName): MessageLink {
    return new MeteredLink(inner, this, peer);
  }

  /** Bytes moved on the link to `peer` in [from, to). */
  bytes(peer: PartyName, direction: 'sent' | 'received', from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const f of this.frames) if (f.peer === peer && f.direction === direction && f.time >= from && f.time < to) n += f.bytes;
    return n;
  }

  /** Largest critical-path depth on frames exchanged with `peer` before `to`. */
  maxDepth(peer: PartyName, to = Number.POSITIVE_INFINITY): number {
    let d = 0;
    for (const f of this.frames) if (f.peer === peer && f.time < to && f.census.depth > d) d = f.census.depth;
    return d;
  }
}

class MeteredLink implements MessageLink {
  constructor(
    private readonly inner: MessageLink,
    private readonly recorder: PartyRecorder,
    private readonly peer: PartyName,
  ) {}

  async send(frame: Uint8Array): Promise<void> {
    const start = performance.now();
    this.recorder.frames.push({ time: start, peer: this.peer, direction: 'sent', bytes: frame.length, census: censusOf(frame) });
    await this.inner.send(frame);
    const end = performance.now();
    if (end - start > 0.05) this.recorder.waits.push({ start, end, peer: this.peer, op: 'send' });
  }

  async receive(signal?: AbortSignal): Promise<Uint8Array> {
    const start = performance.now();
    const frame = await this.inner.receive(signal);
    const end = performance.now();
    const census = censusOf(frame);
    this.recorder.frames.push({ time: end, peer: this.peer, direction: 'received', bytes: frame.length, census });
    this.recorder.waits.push({ start, end, peer: this.peer, op: 'receive', awaited: census.messages.map((m) => m.kind).join('+') });
    return frame;
  }

  close(reason?: Error): void {
    this.inner.close(reason);
  }

  get isClosed(): boolean {
    return this.inner.isClosed;
  }
}
