import { LinkClosedError, type MessageLink } from './message-link.js';

/**
 * One direction of an in-process pipe: a FIFO of frames with an optional capacity (the
 * dealer's links use one so that it never runs arbitrarily far ahead).
 */
class FrameQueue {
  private readonly frames: Uint8Array[] = [];
  private readonly readers: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private readonly writers: (() => void)[] = [];
  closedWith: Error | undefined;

  constructor(private readonly capacity: number) {}

  async push(frame: Uint8Array): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    const reader = this.readers.shift();
    if (reader) {
      reader.resolve(frame);
      return;
    }
    this.frames.push(frame);
    while (this.frames.length > this.capacity && !this.closedWith) {
      await new Promise<void>((resolve) => this.writers.push(resolve));
    }
    if (this.closedWith) throw this.closedWith;
  }

  pop(signal?: AbortSignal): Promise<Uint8Array> {
    const frame = this.frames.shift();
    if (frame) {
      this.writers.shift()?.();
      return Promise.resolve(frame);
    }
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

  close(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    for (const r of this.readers.splice(0)) r.reject(reason);
    for (const w of this.writers.splice(0)) w();
  }
}

class InProcessEnd implements MessageLink {
  constructor(
    private readonly outgoing: FrameQueue,
    private readonly incoming: FrameQueue,
  ) {}

  send(frame: Uint8Array): Promise<void> {
    // Copy: the receiver must never share memory with the sender.
    return this.outgoing.push(frame.slice());
  }

  receive(signal?: AbortSignal): Promise<Uint8Array> {
    return this.incoming.pop(signal);
  }

  close(reason: Error = new LinkClosedError()): void {
    this.outgoing.close(reason);
    this.incoming.close(reason);
  }

  get isClosed(): boolean {
    return this.outgoing.closedWith !== undefined;
  }
}

/** A connected pair of in-process link ends. `capacity` bounds frames buffered per direction. */
export function inProcessLinkPair(capacity = Number.POSITIVE_INFINITY): [MessageLink, MessageLink] {
  const ab = new FrameQueue(capacity);
  const ba = new FrameQueue(capacity);
  return [new InProcessEnd(ab, ba), new InProcessEnd(ba, ab)];
}
