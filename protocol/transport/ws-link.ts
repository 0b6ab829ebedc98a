/**
 * A `MessageLink` over one WebSocket (the `ws` package): the deployed transport between two
 * parties of a session. One protocol frame is one binary WebSocket message.
 *
 * Link protocol (`permllm-link/1`, besides the binary data messages; text messages are control):
 * - Flow control, so that neither side ever buffers without bound. Each side has a receive
 *   window W (announced on open as `{"t":"window","bytes":W}`, at least MIN_WINDOW_BYTES,
 *   which a sender assumes until the announcement arrives). A sender may start a message only
 *   while its unacknowledged bytes are below the peer's W (so one message may overshoot); the
 *   receiver acknowledges consumed bytes cumulatively (`{"t":"ack","bytes":n}`) once a quarter
 *   window has been consumed. A sender that ignores the window, or any malformed control
 *   message, is a protocol violation: the link closes with CloseCode.ProtocolViolation.
 *   `send` therefore resolves only once the frame is handed to the socket (and, when the
 *   socket's own buffer is above `highWaterBytes`, once it is flushed to the kernel).
 * - Heartbeats: a ping every `heartbeatMs`; a peer from which nothing (data, pong, ping) has
 *   arrived for `deadPeerMs` is declared dead and the socket is terminated. A tick that fires
 *   late (this process was blocked) restarts the count instead of blaming the peer.
 * - Close propagation: when the socket closes, pending and future receives reject with a
 *   `LinkEndedError` (a LinkClosedError) carrying the close code and whether the peer closed.
 *   Frames that arrived before the close are still delivered first.
 *
 * With `ownerCloses`, `close()` (which the protocol code calls when a session ends, with or
 * without an error) only ends this side's use of the link; the session's owner then closes
 * the socket with `end(code, message)`, choosing the code that tells the peer how it ended.
 */
import WebSocket from 'ws';
import { CloseCode, closeCodeName, closeReasonText } from './close-codes.js';
import { LinkClosedError, type MessageLink } from './message-link.js';

/** The receive window every peer grants at least (and that senders assume before the announcement). */
export const MIN_WINDOW_BYTES = 1 << 20;

export interface WsLinkOptions {
  /** Who is at the other end ("engine", "dealer", "gateway"), for messages. */
  peer: string;
  /** This side's receive window in bytes (default 8 MiB; at least MIN_WINDOW_BYTES). */
  windowBytes?: number;
  /** Ping interval (default 1000 ms). */
  heartbeatMs?: number;
  /** Silence after which the peer is declared dead (default 6000 ms). */
  deadPeerMs?: number;
  /** Socket buffer level above which `send` also waits for the flush (default 4 MiB). */
  highWaterBytes?: number;
  /** `close()` leaves the socket open for the owner's `end()` (see the module comment). */
  ownerCloses?: boolean;
}

/** Why a link ended: the close code, whether the peer closed it, and its words. */
export class LinkEndedError extends LinkClosedError {
  constructor(
    message: string,
    readonly code: number,
    readonly byPeer: boolean,
    readonly reasonText = '',
  ) {
    super(message);
  }
}

interface Reader {
  resolve(frame: Uint8Array): void;
  reject(error: Error): void;
}

const DEFAULT_WINDOW = 8 << 20;

export class WsLink implements MessageLink {
  private readonly peer: string;
  private readonly windowBytes: number;
  private readonly heartbeatMs: number;
  private readonly deadPeerMs: number;
  private readonly highWaterBytes: number;
  private readonly ownerCloses: boolean;

  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private readers: Reader[] = [];
  private consumedBytes = 0;
  private acknowledgedBytes = 0;

  private sentBytes = 0;
  private peerAcknowledged = 0;
  private peerWindow = MIN_WINDOW_BYTES;
  private creditWaiters: (() => void)[] = [];
  private sendChain: Promise<void> = Promise.resolve();

  private localClosed: Error | undefined;
  private ended: LinkEndedError | undefined;
  private endCode: number | undefined;
  private lastError: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastSeen = Date.now();
  private lastTick = Date.now();
  private resolveClosed!: (e: LinkEndedError) => void;
  /** Resolves when the socket has closed, with why. */
  readonly closed: Promise<LinkEndedError>;

  constructor(
    private readonly ws: WebSocket,
    options: WsLinkOptions,
  ) {
    this.peer = options.peer;
    this.windowBytes = Math.max(MIN_WINDOW_BYTES, options.windowBytes ?? DEFAULT_WINDOW);
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.deadPeerMs = options.deadPeerMs ?? 6000;
    this.highWaterBytes = options.highWaterBytes ?? 4 << 20;
    this.ownerCloses = options.ownerCloses ?? false;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      this.lastSeen = Date.now();
      // A plain Uint8Array view, not a Buffer: Buffer#slice does not copy, and frame decoding relies on slice() copying.
      if (isBinary) {
        const bytes = toBuffer(data);
        this.onData(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } else {
        this.onControl(toBuffer(data));
      }
    });
    ws.on('pong', () => (this.lastSeen = Date.now()));
    ws.on('ping', () => (this.lastSeen = Date.now()));
    ws.on('error', (error: Error) => (this.lastError ??= error.message));
    ws.on('close', (code: number, reason: Buffer) => this.onSocketClose(code, reason.toString('utf8')));
    if (ws.readyState === WebSocket.OPEN) this.start();
    else ws.once('open', () => this.start());
  }

  get isClosed(): boolean {
    return this.localClosed !== undefined || this.ended !== undefined;
  }

  /**
   * Raises the largest message this side accepts (servers start every connection at a few KiB,
   * so that nobody can make them buffer large frames before a session is authenticated, and
   * raise it to the session's own bound once its Hello arrived). `ws` keeps the limit per
   * socket in its receiver and offers no public setter; the limit is checked when a frame's
   * length is read, before its payload is buffered.
   */
  raiseMessageLimit(bytes: number): void {
    const receiver = (this.ws as unknown as { _receiver?: { _maxPayload: number } })._receiver;
    if (receiver && receiver._maxPayload > 0 && receiver._maxPayload < bytes) receiver._maxPayload = bytes;
  }

  /** Bytes of data messages sent and received so far (for metrics). */
  get bytesSent(): number {
    return this.sentBytes;
  }

  get bytesReceived(): number {
    return this.consumedBytes + this.queuedBytes;
  }

  private start(): void {
    this.lastSeen = this.lastTick = Date.now();
    this.sendControl({ t: 'window', bytes: this.windowBytes });
    this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private tick(): void {
    const now = Date.now();
    // A late tick means this process was blocked: whatever the peer sent is still unread.
    if (now - this.lastTick > 2 * this.heartbeatMs) this.lastSeen = now;
    this.lastTick = now;
    if (now - this.lastSeen > this.deadPeerMs) {
      this.finish(new LinkEndedError(`${this.peer} stopped responding (nothing received for ${this.deadPeerMs} ms)`, CloseCode.Abnormal, true));
      this.ws.terminate();
      return;
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  private sendControl(message: { t: 'window' | 'ack'; bytes: number }): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private onControl(data: Buffer): void {
    if (data.length > 200) return this.violation('control message too long');
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return this.violation('control message is not JSON');
    }
    const { t, bytes } = (message ?? {}) as { t?: unknown; bytes?: unknown };
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return this.violation('control message without a byte count');
    if (t === 'window') {
      if (bytes < MIN_WINDOW_BYTES) return this.violation(`window ${bytes} below the minimum ${MIN_WINDOW_BYTES}`);
      this.peerWindow = bytes;
    } else if (t === 'ack') {
      if (bytes < this.peerAcknowledged || bytes > this.sentBytes) return this.violation(`acknowledged ${bytes} bytes of ${this.sentBytes} sent`);
      this.peerAcknowledged = bytes;
    } else {
      return this.violation('unknown control message');
    }
    for (const wake of this.creditWaiters.splice(0)) wake();
  }

  private onData(frame: Uint8Array): void {
    if (this.localClosed || this.ended) return;
    // What the peer had unacknowledged when it started this frame must be below our window.
    if (this.queuedBytes + (this.consumedBytes - this.acknowledgedBytes) >= this.windowBytes) {
      return this.violation(`sent beyond the receive window of ${this.windowBytes} bytes`);
    }
    const reader = this.readers.shift();
    if (reader) {
      this.consume(frame.length);
      reader.resolve(frame);
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
  }

  private consume(bytes: number): void {
    this.consumedBytes += bytes;
    if (this.consumedBytes - this.acknowledgedBytes >= this.windowBytes / 4) {
      this.acknowledgedBytes = this.consumedBytes;
      this.sendControl({ t: 'ack', bytes: this.consumedBytes });
    }
  }

  private violation(message: string): void {
    const error = new LinkEndedError(`${this.peer} broke the link protocol: ${message}`, CloseCode.ProtocolViolation, false, message);
    this.finish(error);
    this.closeSocket(CloseCode.ProtocolViolation, message);
  }

  private onSocketClose(code: number, reason: string): void {
    let message: string;
    if (this.endCode !== undefined) message = `link to ${this.peer} closed`;
    else if (this.lastError) message = `link to ${this.peer} failed: ${this.lastError}`;
    else if (code === CloseCode.Abnormal) message = `the connection to the ${this.peer} dropped (no close frame)`;
    else message = `${this.peer} closed the link: ${closeCodeName(code)}${reason ? `: ${reason}` : ''}`;
    this.finish(new LinkEndedError(message, this.endCode ?? code, this.endCode === undefined, reason));
  }

  /** Marks the socket as gone: wakes everyone waiting. Queued frames stay readable. */
  private finish(error: LinkEndedError): void {
    if (this.ended) return;
    this.ended = error;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.queue.length === 0) for (const r of this.readers.splice(0)) r.reject(error);
    for (const wake of this.creditWaiters.splice(0)) wake();
    this.resolveClosed(error);
  }

  send(frame: Uint8Array): Promise<void> {
    const closed = this.localClosed ?? this.ended;
    if (closed) return Promise.reject(closed);
    const sent = this.sendChain.then(() => this.transmit(frame));
    this.sendChain = sent.catch(() => undefined);
    return sent;
  }

  private async transmit(frame: Uint8Array): Promise<void> {
    while (!this.localClosed && !this.ended && this.sentBytes - this.peerAcknowledged >= this.peerWindow) {
      await new Promise<void>((resolve) => this.creditWaiters.push(resolve));
    }
    const closed = this.localClosed ?? this.ended;
    if (closed) throw closed;
    if (this.ws.readyState !== WebSocket.OPEN) await this.opened();
    this.sentBytes += frame.byteLength;
    const flushed = new Promise<void>((resolve) => this.ws.send(frame, { binary: true }, () => resolve()));
    if (this.ws.bufferedAmount > this.highWaterBytes) await Promise.race([flushed, this.closed]);
    const after = this.localClosed ?? this.ended;
    if (after) throw after;
  }

  private opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      if (this.ended) return reject(this.ended);
      this.ws.once('open', () => resolve());
      void this.closed.then(reject);
    });
  }

  receive(signal?: AbortSignal): Promise<Uint8Array> {
    if (this.localClosed) return Promise.reject(this.localClosed);
    const frame = this.queue.shift();
    if (frame) {
      this.queuedBytes -= frame.length;
      this.consume(frame.length);
      return Promise.resolve(frame);
    }
    if (this.ended) return Promise.reject(this.ended);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.readers = this.readers.filter((r) => r !== reader);
        reject(abortReason(signal!));
      };
      const reader: Reader = {
        resolve: (f) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(f);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.readers.push(reader);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Ends this side's use of the link: pending and future receives and sends fail. Without
   * `ownerCloses` it also closes the socket (Normal, or SessionFailed when `reason` is not a
   * LinkClosedError).
   */
  close(reason?: Error): void {
    this.closeLocally(reason ?? new LinkClosedError(`link to ${this.peer} closed`));
    if (!this.ownerCloses) {
      const failed = reason !== undefined && !(reason instanceof LinkClosedError);
      this.closeSocket(failed ? CloseCode.SessionFailed : CloseCode.Normal, failed ? reason.message : 'closed');
    }
  }

  /** Closes the socket with `code`; the peer sees `message` (cut to the 123 bytes a close frame holds). */
  end(code: number, message: string): void {
    this.closeLocally(new LinkClosedError(`link to ${this.peer} closed: ${message}`));
    this.closeSocket(code, message);
  }

  private closeLocally(reason: Error): void {
    if (this.localClosed) return;
    this.localClosed = reason;
    this.queue.length = 0;
    this.queuedBytes = 0;
    for (const r of this.readers.splice(0)) r.reject(reason);
    for (const wake of this.creditWaiters.splice(0)) wake();
  }

  private closeSocket(code: number, message: string): void {
    if (this.endCode !== undefined) return;
    this.endCode = code;
    const state = this.ws.readyState;
    if (state === WebSocket.CLOSED) return;
    if (code === CloseCode.Abnormal || state === WebSocket.CONNECTING) {
      this.ws.terminate();
      return;
    }
    if (state === WebSocket.OPEN) this.ws.close(code, closeReasonText(message));
  }

  /** Drops the connection at once (no close handshake). */
  terminate(): void {
    this.endCode ??= CloseCode.Abnormal;
    this.ws.terminate();
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new LinkClosedError('aborted');
}
