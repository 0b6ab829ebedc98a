/**
 * Binds a connection to the session it was opened for: the first frame a party receives on a
 * session link is the Hello (protocol/session/handshake.ts), whose parameters name the session;
 * it must be the session id of the connection's URL, else the frame is a ProtocolViolation
 * (a connection cannot be reused to smuggle in another session). Anything that is not a
 * decodable Hello passes through to the PartyNetwork, which rejects it on its own terms.
 */
import { decodeFrame, MessageKind, type Frame } from '../wire/frame.js';
import type { MessageLink } from './message-link.js';
import { ProtocolViolation, type PartyName } from './party-network.js';

/** The session id named by a Hello frame (also inside a fused frame), or undefined. */
export function helloSessionId(data: Uint8Array, maxFrameBytes: number): string | undefined {
  let frame: Frame;
  try {
    frame = decodeFrame(data, maxFrameBytes);
    if (frame.kind === MessageKind.Fused) {
      const first = frame.parts[0];
      if (!(first instanceof Uint8Array)) return undefined;
      frame = decodeFrame(first, maxFrameBytes);
    }
  } catch {
    return undefined;
  }
  const params = frame.kind === MessageKind.Hello ? frame.parts[0] : undefined;
  if (!(params instanceof Uint8Array)) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(params)) as { sessionId?: unknown };
    return typeof parsed.sessionId === 'string' ? parsed.sessionId : undefined;
  } catch {
    return undefined;
  }
}

class SessionIdGuard implements MessageLink {
  private checked = false;

  constructor(
    private readonly link: MessageLink,
    private readonly peer: PartyName,
    private readonly sessionId: string,
    private readonly maxFrameBytes: number,
    private readonly onHello: () => void,
  ) {}

  send(frame: Uint8Array): Promise<void> {
    return this.link.send(frame);
  }

  async receive(signal?: AbortSignal): Promise<Uint8Array> {
    const frame = await this.link.receive(signal);
    if (!this.checked) {
      this.checked = true;
      const named = helloSessionId(frame, this.maxFrameBytes);
      if (named !== undefined && named !== this.sessionId) {
        throw new ProtocolViolation(this.peer, `Hello for session ${named.slice(0, 8)}… on a connection opened for session ${this.sessionId.slice(0, 8)}…`);
      }
      if (named !== undefined) this.onHello();
    }
    return frame;
  }

  close(reason?: Error): void {
    this.link.close(reason);
  }

  get isClosed(): boolean {
    return this.link.isClosed;
  }
}

/** `onHello` runs once the connection's Hello named the right session (e.g. to raise the frame limit). */
export function guardSessionId(link: MessageLink, peer: PartyName, sessionId: string, maxFrameBytes: number, onHello: () => void = () => undefined): MessageLink {
  return new SessionIdGuard(link, peer, sessionId, maxFrameBytes, onHello);
}
