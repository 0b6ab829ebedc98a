/**
 * A party's view of its links: typed send/receive of protocol messages with validation,
 * accounting and fusion.
 *
 * Fusion (protocol.md, "Rounds"): `send` only queues; every queued message to a peer leaves in
 * one physical frame when the party next waits for any message, or on `flush()`. So messages
 * that go the same way at the same time always share a frame.
 *
 * Validation: physical frames carry a per-direction sequence number that must increase by one
 * (replayed, dropped or reordered frames are rejected); each logical message must be the kind
 * and step the receiver's schedule expects. Any violation throws ProtocolViolation, which ends
 * the session (never the process).
 */
import { CriticalPathClock, TrafficMeter } from '../accounting/traffic-meter.js';
import type { ShareDtype } from '../masks/mask-profile.js';
import { decodeFrame, encodeFrame, FrameError, MessageKind, type Frame, type FramePart } from '../wire/frame.js';
import { yieldIfDue } from '../../compute/event-loop-slices.js';
import type { MessageLink } from './message-link.js';

export type PartyName = 'engine' | 'gateway' | 'dealer';

export class ProtocolViolation extends Error {
  constructor(
    readonly peer: PartyName,
    message: string,
  ) {
    super(`protocol violation by ${peer}: ${message}`);
    this.name = 'ProtocolViolation';
  }
}

/** The peer itself ended the session with an Error frame (it failed; it did not misbehave). */
export class PeerReportedError extends ProtocolViolation {
  constructor(peer: PartyName, reason: string) {
    super(peer, `peer reported an error: ${reason}`);
    this.name = 'PeerReportedError';
  }
}

interface Peer {
  link: MessageLink;
  outbox: Frame[];
  inbox: Frame[];
  sendSeq: number;
  recvSeq: number;
  messageSeq: number;
}

export interface PartyNetworkOptions {
  floatType: ShareDtype;
  maxFrameBytes: number;
  signal?: AbortSignal;
  /**
   * The schedule's two message optimisations, on by default; turning them off gives the
   * unoptimised baseline the benchmarks compare against. `fuse`: same-direction messages share
   * a frame. `offlineSends`: messages that depend only on offline data leave off the critical path.
   */
  fuse?: boolean;
  offlineSends?: boolean;
}

export class PartyNetwork {
  readonly clock = new CriticalPathClock();
  readonly meter = new TrafficMeter();
  private readonly peers = new Map<PartyName, Peer>();
  private sendFailure: unknown;
  /**
   * Work this party does while receive() is blocked waiting for a frame (the gateway's MulW
   * products for the next pass, protocol/pool/products-ahead.ts). It is given the frame's
   * arrival, returns once that settles (work under way may finish in the background) and
   * never throws. Absent: the party just waits.
   */
  whileWaiting: ((arrival: Promise<unknown>) => Promise<void>) | undefined;

  constructor(
    readonly self: PartyName,
    private readonly options: PartyNetworkOptions,
  ) {}

  /** Applies the session's schedule choice (agreed in the handshake). */
  configureSchedule(optimized: boolean): void {
    this.options.fuse = optimized;
    this.options.offlineSends = optimized;
  }

  connect(peer: PartyName, link: MessageLink): void {
    this.peers.set(peer, { link, outbox: [], inbox: [], sendSeq: 0, recvSeq: 0, messageSeq: 0 });
  }

  private peer(name: PartyName): Peer {
    const p = this.peers.get(name);
    if (!p) throw new Error(`${this.self} has no link to ${name}`);
    return p;
  }

  /** Queues a message. `offline` marks messages that depend only on offline data. */
  send(to: PartyName, kind: MessageKind, step: number, parts: FramePart[], offline = false): void {
    const p = this.peer(to);
    const off = offline && this.options.offlineSends !== false;
    p.outbox.push({ kind, seq: p.messageSeq++, step, depth: off ? 0 : this.clock.stampOnline(), offline: off, parts });
    if (this.options.fuse === false) {
      // Unfused baseline: every message leaves at once in its own frame.
      this.flush().catch((e: unknown) => (this.sendFailure ??= e));
    }
  }

  /** Sends every queued message, one physical frame per peer. */
  async flush(): Promise<void> {
    // The outboxes are taken and the frames handed to the links synchronously (fusion and frame
    // order depend on it); only then may the event loop get its turn (compute/event-loop-slices.ts).
    // Every wait of the schedule passes through here: a party whose sends fit its peers' receive
    // windows never waits for real I/O, so without this the dealer, which only produces, ran up
    // to 8 MiB per link ahead in microtasks and stalled /healthz for 5.1 s (stories260K, n = 4).
    const sends: Promise<void>[] = [];
    for (const [name, p] of this.peers) {
      if (p.outbox.length === 0) continue;
      const frames = p.outbox.splice(0);
      sends.push(this.transmit(name, p, frames));
    }
    await Promise.all(sends);
    await yieldIfDue();
  }

  private async transmit(name: PartyName, p: Peer, frames: Frame[]): Promise<void> {
    const encoded = frames.map((f) => encodeFrame(f, this.options.floatType));
    let physical: Uint8Array;
    if (encoded.length === 1) {
      physical = encodeFrame({ ...frames[0]!, seq: p.sendSeq++ }, this.options.floatType);
    } else {
      const online = frames.filter((f) => !f.offline);
      physical = encodeFrame({
        kind: MessageKind.Fused,
        seq: p.sendSeq++,
        step: frames[0]!.step,
        depth: Math.max(0, ...online.map((f) => f.depth)),
        offline: online.length === 0,
        parts: encoded,
      });
    }
    const offlineBytes = frames.every((f) => f.offline);
    this.meter.recordSent(name, physical.length, offlineBytes);
    await p.link.send(physical);
  }

  /** Waits for the next message from `from`, which must be of `kind` for `step`. */
  async receive(from: PartyName, kind: MessageKind, step: number): Promise<FramePart[]> {
    await this.flush();
    if (this.sendFailure) throw this.sendFailure;
    const p = this.peer(from);
    let frame = p.inbox.shift();
    if (!frame) {
      const arrival = this.readPhysical(from, p);
      if (this.whileWaiting) await this.whileWaiting(arrival);
      await arrival;
      frame = p.inbox.shift()!;
    }
    if (frame.kind === MessageKind.Error) {
      const text = frame.parts[0] instanceof Uint8Array ? new TextDecoder().decode(frame.parts[0]) : 'unknown error';
      throw new PeerReportedError(from, text);
    }
    if (frame.kind !== kind || frame.step !== step) {
      throw new ProtocolViolation(from, `expected ${MessageKind[kind]} for step ${step}, got ${MessageKind[frame.kind] ?? frame.kind} for step ${frame.step}`);
    }
    if (!frame.offline) this.clock.observe(frame.depth);
    return frame.parts;
  }

  private async readPhysical(from: PartyName, p: Peer): Promise<void> {
    const data = await p.link.receive(this.options.signal);
    let frame: Frame;
    try {
      frame = decodeFrame(data, this.options.maxFrameBytes);
    } catch (e) {
      throw new ProtocolViolation(from, e instanceof FrameError ? e.message : String(e));
    }
    if (frame.seq !== p.recvSeq) throw new ProtocolViolation(from, `frame seq ${frame.seq}, expected ${p.recvSeq} (replayed or out of order)`);
    p.recvSeq++;
    this.meter.recordReceived(from, data.length, frame.offline);
    if (frame.kind !== MessageKind.Fused) {
      p.inbox.push(frame);
      return;
    }
    // receive() expects at least one message from every physical frame.
    if (frame.parts.length === 0) throw new ProtocolViolation(from, 'empty fused frame');
    for (const part of frame.parts) {
      if (!(part instanceof Uint8Array)) throw new ProtocolViolation(from, 'fused frame holds a non-byte part');
      try {
        const inner = decodeFrame(part, this.options.maxFrameBytes);
        if (inner.kind === MessageKind.Fused) throw new FrameError('nested fused frame');
        p.inbox.push(inner);
      } catch (e) {
        throw new ProtocolViolation(from, e instanceof Error ? e.message : String(e));
      }
    }
  }

  /** Tells every peer why the session ends (best effort) and closes the links. */
  async abort(reason: string): Promise<void> {
    for (const [, p] of this.peers) {
      if (p.link.isClosed) continue;
      const frame = encodeFrame({ kind: MessageKind.Error, seq: p.sendSeq++, step: 0, depth: 0, offline: false, parts: [new TextEncoder().encode(reason)] });
      await p.link.send(frame).catch(() => undefined);
      p.link.close();
    }
  }

  close(): void {
    for (const [, p] of this.peers) p.link.close();
  }
}
