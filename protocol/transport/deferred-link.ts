/**
 * A link that connects on its first send, so that the connection can be opened with what the
 * first frame says. The gateway uses it because the session id is chosen inside the protocol
 * (privateGenerate) and first appears in the Hello frame: the link reads it from there and
 * opens the WebSocket for exactly that session.
 */
import { helloSessionId } from './session-id-guard.js';
import { LinkClosedError, type MessageLink } from './message-link.js';

export class DeferredLink implements MessageLink {
  private link: Promise<MessageLink> | undefined;
  private closedWith: Error | undefined;
  private resolveStarted!: () => void;
  private readonly started = new Promise<void>((resolve) => (this.resolveStarted = resolve));

  /** `open` gets the session id named by the first frame (undefined when it names none). */
  constructor(
    private readonly open: (sessionId: string | undefined) => Promise<MessageLink>,
    private readonly maxFrameBytes: number,
  ) {}

  async send(frame: Uint8Array): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    if (!this.link) {
      this.link = this.open(helloSessionId(frame, this.maxFrameBytes));
      this.link.catch(() => undefined);
      this.resolveStarted();
    }
    const link = await this.link;
    if (this.closedWith) throw this.closedWith;
    return link.send(frame);
  }

  async receive(signal?: AbortSignal): Promise<Uint8Array> {
    if (this.closedWith) throw this.closedWith;
    if (!this.link) {
      const closed = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new LinkClosedError('aborted'));
        signal?.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new LinkClosedError('aborted')), { once: true });
      });
      await Promise.race([this.started, closed]);
      if (this.closedWith) throw this.closedWith;
    }
    const link = await this.link!;
    return link.receive(signal);
  }

  close(reason?: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason ?? new LinkClosedError('link closed');
    this.resolveStarted();
    this.link?.then((l) => l.close(reason)).catch(() => undefined);
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }
}
