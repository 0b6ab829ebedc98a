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

/**
 * The code `link` closes with, waiting at most `ms` for it: a peer that ends a session sends an
 * Error frame and then closes with a code that says why (e.g. Cancelled), and the frame may be
 * read before the close arrives. Undefined when the link stays open.
 */
export async function closeCodeSoon(link: WsLink, ms = 1000): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const ended = await Promise.race([link.closed, timeout]);
  clearTimeout(timer);
  return ended?.code;
}
