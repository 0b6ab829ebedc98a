/**
 * A MessageLink over a plain TCP socket (u32 little-endian length, then the frame), so the
 * benchmark can run the gateway–engine traffic through real sockets and the TCP relay
 * (link-emulator.ts) inside one process. A stand-in for the WebSocket transport: the relay
 * works at the byte level and does not care which framing runs over it.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { FrameInbox } from '../protocol/transport/frame-inbox.js';
import { LinkClosedError, type MessageLink } from '../protocol/transport/message-link.js';

const LENGTH_BYTES = 4;

export class TcpFrameLink implements MessageLink {
  private readonly inbox = new FrameInbox();
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being received, once its prefix has arrived. */
  private expected: number | undefined;
  private get closedWith(): Error | undefined {
    return this.inbox.closedWith;
  }

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.shut(new LinkClosedError('peer closed the connection')));
    socket.on('error', (e) => this.shut(new LinkClosedError(`socket error: ${e.message}`)));
    socket.on('close', () => this.shut(new LinkClosedError('connection closed')));
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < LENGTH_BYTES) return;
        this.expected = this.take(LENGTH_BYTES).readUInt32LE(0);
      }
      // Wait for the whole frame before joining chunks, so a large frame is copied once.
      if (this.buffered < this.expected) return;
      const frame = new Uint8Array(this.take(this.expected));
      this.expected = undefined;
      this.inbox.deliver(frame);
    }
  }

  /** Removes and returns the first n buffered bytes. */
  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = Buffer.from(all.subarray(0, n));
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return out;
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const head = Buffer.alloc(LENGTH_BYTES);
    head.writeUInt32LE(frame.length, 0);
    this.socket.write(head);
    if (this.socket.write(frame)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(this.closedWith ?? new LinkClosedError());
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  receive(signal?: AbortSignal): Promise<Uint8Array> {
    return this.inbox.take(signal);
  }

  private shut(reason: Error): void {
    this.inbox.end(reason);
  }

  /** Ends our side after what was written is flushed; the peer sees the end after its last frame. */
  close(reason: Error = new LinkClosedError()): void {
    this.shut(reason);
    this.socket.end();
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }
}

/**
 * A connected pair over loopback TCP: `listen` is the server side (the engine's end), and the
 * client side connects to `via(port)`, the port it should dial (the server's own port, or a
 * relay in front of it). Returns [client end, server end].
 */
export async function tcpLinkPair(via: (serverPort: number) => Promise<number> | number = (p) => p): Promise<{ client: MessageLink; server: MessageLink; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp link: no port');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const port = await via(address.port);
  const clientSocket = connect(port, '127.0.0.1');
  await once(clientSocket, 'connect');
  const [serverSocket] = await accepted;
  server.close();
  const client = new TcpFrameLink(clientSocket);
  const serverEnd = new TcpFrameLink(serverSocket);
  return {
    client,
    server: serverEnd,
    close: () => {
      clientSocket.destroy();
      serverSocket.destroy();
    },
  };
}
