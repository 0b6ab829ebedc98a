/**
 * In-process link emulation: a MessageLink wrapper that holds each outgoing frame until it
 * would have arrived over a link with the given one-way delay and bandwidth (LinkPacer), then
 * hands it to the wrapped link. Wrap both ends of a pair to emulate both directions.
 *
 * `send` resolves at once (like a write into a large socket buffer); the sender computes on
 * while its frame is in flight. `close` is graceful: frames already sent are still delivered,
 * in order, before the wrapped link closes, so a session's last message is never lost.
 */
import { LinkClosedError, type MessageLink } from '../protocol/transport/message-link.js';
import { DueQueue, LinkPacer } from './link-pacer.js';
import { oneWayDelayMs, type LinkSetting } from './link-settings.js';

class EmulatedLink implements MessageLink {
  private readonly pacer: LinkPacer;
  private readonly queue: DueQueue<Uint8Array>;
  private closing: Error | undefined;
  private failed: unknown;

  constructor(
    private readonly inner: MessageLink,
    setting: LinkSetting,
    private readonly onDelivered?: (due: number, at: number) => void,
  ) {
    this.pacer = new LinkPacer(oneWayDelayMs(setting), setting.bitsPerSecond);
    this.queue = new DueQueue((frame, due, at) => {
      this.onDelivered?.(due, at);
      this.deliver(frame);
    });
  }

  private deliver(frame: Uint8Array): void {
    this.inner.send(frame).catch((e: unknown) => (this.failed ??= e));
    if (this.closing && this.queue.size === 0) this.inner.close(this.closing);
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closing || this.inner.isClosed) return Promise.reject(this.closing ?? new LinkClosedError());
    if (this.failed) return Promise.reject(this.failed);
    // Copy now: the caller may reuse its buffer while the frame is "on the wire".
    this.queue.push(frame.slice(), this.pacer.schedule(frame.length, performance.now()));
    return Promise.resolve();
  }

  receive(signal?: AbortSignal): Promise<Uint8Array> {
    return this.inner.receive(signal);
  }

  close(reason: Error = new LinkClosedError()): void {
    if (this.closing) return;
    this.closing = reason;
    if (this.queue.size === 0) this.inner.close(reason);
  }

  get isClosed(): boolean {
    return this.closing !== undefined || this.inner.isClosed;
  }
}

/**
 * Wraps one end of a link so that what it sends is delayed and paced per `setting`.
 * `onDelivered` sees each frame's due time and the time the emulator actually handed it on
 * (timers fire late on a busy event loop; the benchmark reports that lateness).
 */
export function emulateLink(inner: MessageLink, setting: LinkSetting, onDelivered?: (due: number, at: number) => void): MessageLink {
  if (setting.rttMs === 0 && !Number.isFinite(setting.bitsPerSecond)) return inner;
  return new EmulatedLink(inner, setting, onDelivered);
}
