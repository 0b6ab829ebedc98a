/**
 * A hostile or broken peer for fault tests: a bare `ws` client that speaks none of the link
 * protocol (no flow control, no checks) and sends whatever bytes it is given, plus builders of
 * valid and almost-valid protocol frames.
 */
import { WebSocket } from 'ws';
import { KeyExchange } from '../../crypto/key-agreement.js';
import { encodeSessionParams } from '../../protocol/session/session-params.js';
import { encodeFrame, FRAME_HEADER_BYTES, MessageKind } from '../../protocol/wire/frame.js';

export interface RawPeer {
  ws: WebSocket;
  send(data: Uint8Array | string): void;
  /** The close code and reason the server closed with. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a raw connection; rejects with the HTTP status when the upgrade is refused. */
export function rawPeer(url: string, token: string | undefined): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.once('close', (code, reason) => done({ code, reason: reason.toString('utf8') })));
    ws.on('error', () => undefined);
    ws.once('open', () => resolve({ ws, send: (data) => ws.send(data), closed }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => reject(Object.assign(new Error(`HTTP ${response.statusCode}: ${body}`), { status: response.statusCode })));
    });
    ws.once('error', (error) => reject(error));
  });
}

/** A Hello's session parameters, on the engine's default profile (ring64) unless told. */
export function sessionParams(sessionId: string, profile = 'ring64') {
  return { sessionId, promptLength: 3, maxNewTokens: 2, profile, lookupsPerToken: 1, optimized: true };
}

/** A well-formed Hello (with a real X25519 key share when `withKey`). */
export function helloFrame(sessionId: string, seq = 0, withKey = false): Uint8Array {
  const parts = [encodeSessionParams(sessionParams(sessionId)), ...(withKey ? [new KeyExchange().publicKey] : [])];
  return encodeFrame({ kind: MessageKind.Hello, seq, step: 0, depth: 0, offline: true, parts });
}

/** A frame whose header promises a part far longer than the frame. */
export function truncatedFrame(): Uint8Array {
  const frame = helloFrame('0'.repeat(32));
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint32(FRAME_HEADER_BYTES + 4, 1 << 30, true);
  return frame;
}
