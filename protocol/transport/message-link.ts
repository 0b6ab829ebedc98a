/**
 * The transport interface: an ordered, reliable, bidirectional pipe of binary frames between
 * two parties. Implemented in-process (tests, `permllm generate`) and over WebSocket (the
 * deployed system). Nothing else crosses a party boundary.
 */
export interface MessageLink {
  /** Queues one frame. Resolves when the link can take more (back-pressure). */
  send(frame: Uint8Array): Promise<void>;
  /** The next frame from the peer; rejects when the link closes or the signal aborts. */
  receive(signal?: AbortSignal): Promise<Uint8Array>;
  /** Closes both directions; pending and future receives reject with `reason`. */
  close(reason?: Error): void;
  readonly isClosed: boolean;
}

export class LinkClosedError extends Error {
  constructor(reason = 'link closed') {
    super(reason);
    this.name = 'LinkClosedError';
  }
}
