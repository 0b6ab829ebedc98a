import { LinkClosedError } from './message-link.js';

/**
 * The receiving half every simple MessageLink needs: frames delivered before anyone asks wait
 * in order; a receive() before any frame waits for the next one (or an abort); after the link
 * ends, frames already queued stay readable and later receives reject with the end's reason.
 */
export class FrameInbox {
  private readonly frames: Uint8Array[] = [];
  private readonly readers: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  closedWith: Error | undefined;

  /** Frames waiting to be read. */
  get queued(): number {
    return this.frames.length;
  }

  /** Hands a frame to the oldest waiting reader, or queues it. */
  deliver(frame: Uint8Array): void {
    const reader = this.readers.shift();
    if (reader) reader.resolve(frame);
    else this.frames.push(frame);
  }

  /** The next frame (queued first); rejects once the inbox has ended and is empty, or on abort. */
  take(signal?: AbortSignal): Promise<Uint8Array> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      this.readers.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.readers.indexOf(entry);
          if (i >= 0) this.readers.splice(i, 1);
          reject(signal.reason instanceof Error ? signal.reason : new LinkClosedError('aborted'));
        },
        { once: true },
      );
    });
  }

  /** Ends the inbox: waiting readers reject with `reason`; queued frames stay readable. */
  end(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    for (const r of this.readers.splice(0)) r.reject(reason);
  }
}
