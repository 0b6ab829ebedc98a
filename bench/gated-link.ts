/**
 * A MessageLink whose receives wait for a gate to open. The benchmark's "dealer ahead" mode
 * holds the gateway at the end of its handshake (its first dealer frame) until the dealer has
 * produced the whole session's material, so that the online phase runs after the offline one
 * as the protocol intends, instead of competing with it for this one process's event loop.
 */
import type { MessageLink } from '../protocol/transport/message-link.js';

export class GatedLink implements MessageLink {
  constructor(
    private readonly inner: MessageLink,
    private readonly gate: Promise<void>,
  ) {}

  send(frame: Uint8Array): Promise<void> {
    return this.inner.send(frame);
  }

  async receive(signal?: AbortSignal): Promise<Uint8Array> {
    await this.gate;
    return this.inner.receive(signal);
  }

  close(reason?: Error): void {
    this.inner.close(reason);
  }

  get isClosed(): boolean {
    return this.inner.isClosed;
  }
}
