/**
 * WsLink over real sockets on 127.0.0.1: ordering and integrity, back-pressure (a sender never
 * has more than a window in flight), the receive window enforced against a peer that ignores
 * it, close propagation with codes, dead-peer detection by heartbeat, and owner-controlled close.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { LinkClosedError } from '../../protocol/transport/message-link.js';
import { connectLink, LinkConnectError } from '../../protocol/transport/ws-connect.js';
import { LinkEndedError, MIN_WINDOW_BYTES, WsLink, type WsLinkOptions } from '../../protocol/transport/ws-link.js';
import { sleep } from '../helpers/processes.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** A server whose connections are handed to `onSocket`; resolves with its ws:// URL. */
async function server(onSocket: (ws: WebSocket) => void, options: { autoPong?: boolean } = {}): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 << 20, autoPong: options.autoPong ?? true });
  servers.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', onSocket);
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

/** A connected pair of links: [server side, client side]. */
async function linkPair(serverOptions: Partial<WsLinkOptions> = {}, clientOptions: Partial<WsLinkOptions> = {}): Promise<[WsLink, WsLink]> {
  let resolveServer!: (l: WsLink) => void;
  const serverSide = new Promise<WsLink>((resolve) => (resolveServer = resolve));
  const url = await server((ws) => resolveServer(new WsLink(ws, { peer: 'client', ...serverOptions })));
  const client = await connectLink(url, { peer: 'server', maxPayload: 64 << 20, ...clientOptions });
  return [await serverSide, client];
}

const frame = (i: number, size: number) => {
  const f = new Uint8Array(size);
  f.fill(i & 0xff);
  new DataView(f.buffer).setUint32(0, i, true);
  return f;
};

describe('WsLink', () => {
  it('delivers frames in order and intact, both ways, as plain copies-on-slice arrays', async () => {
    const [a, b] = await linkPair();
    for (let i = 0; i < 50; i++) void a.send(frame(i, 16 + i * 100));
    for (let i = 0; i < 50; i++) {
      const got = await b.receive();
      expect(Buffer.from(got).equals(frame(i, 16 + i * 100))).toBe(true);
      // Frame decoding copies with slice(): that must give an array that starts at offset 0.
      expect(got.slice().buffer.byteLength).toBe(got.length);
    }
    await b.send(Uint8Array.of(1, 2, 3));
    expect(await a.receive()).toEqual(Uint8Array.of(1, 2, 3));
    a.close();
    await expect(b.receive()).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('applies back-pressure: a sender never has more than one window in flight', async () => {
    const [receiver, sender] = await linkPair({ windowBytes: MIN_WINDOW_BYTES });
    const size = 256 << 10;
    const count = 24;
    let resolved = 0;
    let consumed = 0;
    let worst = 0;
    const sending = (async () => {
      for (let i = 0; i < count; i++) {
        await sender.send(frame(i, size));
        resolved++;
        worst = Math.max(worst, resolved - consumed);
      }
    })();
    // The receiver reads nothing for a while: the sender must stall within a window.
    for (let i = 0; i < 40 && resolved < count; i++) await sleep(10);
    expect(resolved).toBeLessThanOrEqual(MIN_WINDOW_BYTES / size + 1);
    expect(resolved).toBeLessThan(count);
    for (let i = 0; i < count; i++) {
      const got = await receiver.receive();
      expect(Buffer.from(got).equals(frame(i, size))).toBe(true);
      consumed++;
    }
    await sending;
    expect(worst).toBeLessThanOrEqual(MIN_WINDOW_BYTES / size + 1);
  });

  it('closes with ProtocolViolation when the peer ignores the receive window', async () => {
    let serverLink!: WsLink;
    const url = await server((ws) => (serverLink = new WsLink(ws, { peer: 'client', windowBytes: MIN_WINDOW_BYTES })));
    const raw = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve) => raw.once('open', resolve));
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
    for (let i = 0; i < 6; i++) raw.send(new Uint8Array(512 << 10));
    expect(await closed).toBe(CloseCode.ProtocolViolation);
    const ended = await serverLink.closed;
    expect(ended.code).toBe(CloseCode.ProtocolViolation);
    expect(ended.message).toContain('receive window');
  });

  it('closes with ProtocolViolation on a malformed control message', async () => {
    let serverLink!: WsLink;
    const url = await server((ws) => (serverLink = new WsLink(ws, { peer: 'client' })));
    const raw = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve) => raw.once('open', resolve));
    raw.send('{"t":"ack","bytes":999999}'); // acknowledges bytes never sent
    const ended = await new Promise<LinkEndedError>((resolve) => {
      const wait = () => (serverLink ? void serverLink.closed.then(resolve) : setTimeout(wait, 5));
      wait();
    });
    expect(ended.code).toBe(CloseCode.ProtocolViolation);
  });

  it('propagates a close with its code and reason, after the frames sent before it', async () => {
    const [a, b] = await linkPair({ ownerCloses: true }, { ownerCloses: true });
    await a.send(Uint8Array.of(7));
    a.end(CloseCode.PeerEnded, 'the dealer ended the session');
    expect(await b.receive()).toEqual(Uint8Array.of(7));
    const error = await b.receive().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkEndedError);
    expect((error as LinkEndedError).code).toBe(CloseCode.PeerEnded);
    expect((error as LinkEndedError).byPeer).toBe(true);
    expect((error as LinkEndedError).reasonText).toBe('the dealer ended the session');
    await expect(b.send(Uint8Array.of(1))).rejects.toBeInstanceOf(LinkClosedError);
  });

  it('with ownerCloses, close() ends the session side only; end() closes the socket', async () => {
    const [a, b] = await linkPair({ ownerCloses: true });
    a.close();
    await expect(a.receive()).rejects.toBeInstanceOf(LinkClosedError);
    await b.send(Uint8Array.of(1)); // the socket is still open
    a.end(CloseCode.Normal, 'done');
    expect((await b.closed).code).toBe(CloseCode.Normal);
  });

  it('declares a silent peer dead by heartbeat', async () => {
    const url = await server(() => undefined, { autoPong: false });
    const link = await connectLink(url, { peer: 'engine', maxPayload: 1 << 20, heartbeatMs: 50, deadPeerMs: 300 });
    const pending = link.receive();
    const ended = await link.closed;
    expect(ended.message).toContain('stopped responding');
    await expect(pending).rejects.toBeInstanceOf(LinkEndedError);
  });

  it('rejects a pending receive when its signal aborts', async () => {
    const [, b] = await linkPair();
    const controller = new AbortController();
    const pending = b.receive(controller.signal);
    controller.abort(new Error('cancelled by test'));
    await expect(pending).rejects.toThrow('cancelled by test');
  });

  it('reports an unreachable peer and a refused upgrade as LinkConnectError', async () => {
    const url = await server(() => undefined);
    servers[0]!.close();
    const unreachable = await connectLink(url, { peer: 'engine', maxPayload: 1024 }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(LinkConnectError);
    expect((unreachable as LinkConnectError).status).toBeUndefined();
    expect((unreachable as LinkConnectError).message).toContain('unreachable');
  });

  it('sends client frames with an all-zero masking key, so neither side runs a per-byte mask loop', async () => {
    const raw: Buffer[] = [];
    let resolveServer!: (l: WsLink) => void;
    const serverSide = new Promise<WsLink>((resolve) => (resolveServer = resolve));
    const url = await server((ws) => {
      // The bytes on the socket after the upgrade: the client's frames as sent.
      (ws as unknown as { _socket: import('node:net').Socket })._socket.on('data', (chunk: Buffer) => raw.push(chunk));
      resolveServer(new WsLink(ws, { peer: 'client' }));
    });
    const client = await connectLink(url, { peer: 'server', maxPayload: 64 << 20 });
    const link = await serverSide;
    const payload = frame(7, 300);
    await client.send(payload);
    expect(Buffer.from(await link.receive()).equals(payload)).toBe(true);
    // Find the frame that carries the payload: FIN + binary, MASK bit, 16-bit length, key, data.
    const bytes = Buffer.concat(raw);
    let found = false;
    for (let o = 0; o + 8 <= bytes.length; ) {
      const masked = (bytes[o + 1]! & 0x80) !== 0;
      let length = bytes[o + 1]! & 0x7f;
      let at = o + 2;
      if (length === 126) {
        length = bytes.readUInt16BE(at);
        at += 2;
      } else if (length === 127) {
        length = Number(bytes.readBigUInt64BE(at));
        at += 8;
      }
      expect(masked).toBe(true); // still a well-formed client frame
      const key = bytes.subarray(at, at + 4);
      expect([...key]).toEqual([0, 0, 0, 0]);
      const data = bytes.subarray(at + 4, at + 4 + length);
      if (data.includes(Buffer.from(payload))) found = true;
      o = at + 4 + length;
    }
    expect(found).toBe(true);
    client.close();
  });
});
