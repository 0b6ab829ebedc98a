/**
 * Opens the gateway's two links of one session: a WebSocket to the engine and one to the
 * dealer, both for the session id that privateGenerate puts in its Hello (DeferredLink opens
 * each on its first frame). The session's abort signal fires when the caller's does, when a
 * connection fails, or when either link closes abnormally, so privateGenerate stops at once
 * whichever party goes away. `end(code, ...)` closes both sockets with the code that tells the
 * engine and the dealer how the session ended.
 */
import { DeferredLink } from '../../protocol/transport/deferred-link.js';
import type { MessageLink } from '../../protocol/transport/message-link.js';
import { abortOnAbnormalClose } from '../../protocol/transport/peer-ended-error.js';
import { dealerSessionUrl, engineSessionUrl } from '../../protocol/transport/session-endpoints.js';
import { connectLink, LinkConnectError } from '../../protocol/transport/ws-connect.js';
import type { WsLink } from '../../protocol/transport/ws-link.js';

export type RemotePeer = 'engine' | 'dealer';

export interface SessionConnectorOptions {
  engineUrl: string;
  dealerUrl: string;
  /** The user credential, presented to the engine only (never to the dealer: see dealer-server.ts). */
  credential?: string | undefined;
  ca?: string | undefined;
  heartbeatMs?: number;
  deadPeerMs?: number;
  /** Tests only: wraps each link (to inject faults such as replayed frames). */
  interceptLink?: (peer: RemotePeer, link: MessageLink) => MessageLink;
}

export interface RemoteSession {
  links: Record<RemotePeer, MessageLink>;
  /** Aborts when the caller aborts, a connection fails, or a link closes abnormally. */
  signal: AbortSignal;
  /** The open sockets (for byte counts); absent until connected. */
  sockets: Partial<Record<RemotePeer, WsLink>>;
  /** Closes both sockets (idempotent). */
  end(code: number, message: string): void;
}

export class SessionConnector {
  constructor(private readonly options: SessionConnectorOptions) {}

  /** A session for `pairingId` whose frames may be as large as `maxFrameBytes`. */
  open(pairingId: string, maxFrameBytes: number, callerSignal: AbortSignal): RemoteSession {
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(callerSignal.reason);
    if (callerSignal.aborted) onCallerAbort();
    else callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    const sockets: Partial<Record<RemotePeer, WsLink>> = {};
    let ended: { code: number; message: string } | undefined;
    const connect = (peer: RemotePeer) => async (sessionId: string | undefined) => {
      if (sessionId === undefined) throw new Error(`the first frame to the ${peer} is not a Hello`);
      const url = peer === 'engine' ? engineSessionUrl(this.options.engineUrl, sessionId, pairingId) : dealerSessionUrl(this.options.dealerUrl, sessionId, pairingId, 'gateway');
      try {
        const link = await connectLink(url, {
          peer,
          token: peer === 'engine' ? this.options.credential : undefined,
          ca: this.options.ca,
          maxPayload: maxFrameBytes,
          ownerCloses: true,
          heartbeatMs: this.options.heartbeatMs ?? 1000,
          deadPeerMs: this.options.deadPeerMs ?? 6000,
          signal: controller.signal,
        });
        sockets[peer] = link;
        if (ended) link.end(ended.code, ended.message);
        abortOnAbnormalClose(link, peer, controller);
        return link;
      } catch (error) {
        if (!controller.signal.aborted) controller.abort(error instanceof LinkConnectError ? error : new LinkConnectError(peer, url, String(error)));
        throw error;
      }
    };
    const wrap = (peer: RemotePeer, link: MessageLink) => this.options.interceptLink?.(peer, link) ?? link;
    return {
      links: {
        engine: wrap('engine', new DeferredLink(connect('engine'), maxFrameBytes)),
        dealer: wrap('dealer', new DeferredLink(connect('dealer'), maxFrameBytes)),
      },
      signal: controller.signal,
      sockets,
      end(code, message) {
        callerSignal.removeEventListener('abort', onCallerAbort);
        ended ??= { code, message };
        sockets.engine?.end(ended.code, ended.message);
        sockets.dealer?.end(ended.code, ended.message);
      },
    };
  }
}

