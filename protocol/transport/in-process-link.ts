import { FrameInbox } from './frame-inbox.js';
import { LinkClosedError, type MessageLink } from './message-link.js';

/**
 * One direction of an in-process pipe: a FIFO of frames with an optional capacity (the
 * dealer's links use one so that it never runs arbitrarily far ahead).
 */
class FrameQueue {
  private readonly inbox = new FrameInbox();
  private readonly writers: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get closedWith(): Error | undefined {
    return this.inbox.closedWith;
  }

  async push(frame: Uint8Array): Promise<void> {
    if (this.inbox.closedWith) throw this.inbox.closedWith;
    this.inbox.deliver(frame);
    while (this.inbox.queued > this.capacity && !this.inbox.closedWith) {
      await new Promise<void>((resolve) => this.writers.push(resolve));
    }
    if (this.inbox.closedWith) throw this.inbox.closedWith;
  }

  async pop(signal?: AbortSignal): Promise<Uint8Array> {
    const frame = await this.inbox.take(signal);
    this.writers.shift()?.();
    return frame;
  }

  close(reason: Error): void {
    this.inbox.end(reason);
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
