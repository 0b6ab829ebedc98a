/**
 * Session-owner helpers: a session is aborted with a `PeerEndedError` when one of its links
 * closes abnormally (the peer failed, left, or cancelled), so every party ends its side at
 * once instead of waiting for a frame that will never come.
 */
import { CloseCode, isAbnormalClose } from './close-codes.js';
import type { LinkEndedError, WsLink } from './ws-link.js';

export class PeerEndedError extends Error {
  override readonly name = 'PeerEndedError';
  constructor(
    readonly peer: string,
    readonly ended: LinkEndedError,
  ) {
    super(ended.message);
  }

  /** The peer closed with Cancelled (the gateway stopped wanting tokens). */
  get cancelled(): boolean {
    return this.ended.code === CloseCode.Cancelled;
  }
}

/**
 * Aborts `controller` with a PeerEndedError when `link` closes abnormally without this side
 * having closed it (the peer closed it, died, or broke the link protocol).
 */
export function abortOnAbnormalClose(link: WsLink, peer: string, controller: AbortController): void {
  void link.closed.then((ended) => {
    const notOurs = ended.byPeer || ended.code === CloseCode.ProtocolViolation;
    if (notOurs && isAbnormalClose(ended.code) && !controller.signal.aborted) controller.abort(new PeerEndedError(peer, ended));
  });
}
