/**
 * A user-space WAN emulator for real sockets (no netem here): a TCP relay that listens on a
 * port, connects each accepted client to a target (the engine's port), and forwards bytes both
 * ways, each direction through its own LinkPacer: paced at the bandwidth, then held for the
 * one-way delay. It sits between the gateway and the engine whatever they speak over TCP
 * (WebSocket or the benchmark's length-prefixed frames), e.g.
 *
 *   permllm bench relay --listen 9100 --target 127.0.0.1:9000 --rtt 10 --bandwidth 1e9
 *
 * Memory is bounded: a direction holding more than `maxQueuedBytes` pauses its source socket
 * until the queue drains, so TCP back-pressure reaches the sender as it would on a slow link.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DueQueue, LinkPacer } from './link-pacer.js';

export interface LinkEmulatorOptions {
  /** Port to listen on (0: any free port; read `port` after start). */
  listenPort?: number;
  listenHost?: string;
  targetHost: string;
  targetPort: number;
  /** Delay added to each direction (half the RTT). */
  oneWayDelayMs: number;
  /** Bandwidth of each direction; Infinity (default) for no pacing. */
  bitsPerSecond?: number;
  /** Bytes a direction may hold before it pauses its source (default 32 MiB). */
  maxQueuedBytes?: number;
}

export interface RelayTotals {
  connections: number;
  /** Bytes forwarded client → target and target → client. */
  upstreamBytes: number;
  downstreamBytes: number;
}

/** Forwards src → dst through a pacer; ends dst once src has ended and the queue is empty. */
function pipeDirection(src: Socket, dst: Socket, pacer: LinkPacer, maxQueued: number, count: (n: number) => void): void {
  let queued = 0;
  let srcEnded = false;
  const finishIfDrained = () => {
    if (srcEnded && queue.size === 0) dst.end();
  };
  const queue = new DueQueue<Buffer>((chunk) => {
    queued -= chunk.length;
    count(chunk.length);
    dst.write(chunk);
    if (src.isPaused() && queued < maxQueued / 2) src.resume();
    finishIfDrained();
  });
  src.on('data', (chunk: Buffer) => {
    if (pacer.transparent) {
      count(chunk.length);
      if (!dst.write(chunk)) {
        src.pause();
        dst.once('drain', () => src.resume());
      }
      return;
    }
    queued += chunk.length;
    queue.push(chunk, pacer.schedule(chunk.length, performance.now()));
    if (queued > maxQueued) src.pause();
  });
  src.on('end', () => {
    srcEnded = true;
    finishIfDrained();
  });
  src.on('close', () => {
    // An abrupt close (error, reset) drops what is in flight, as a broken link would.
    if (!srcEnded) {
      queue.stop();
      dst.destroy();
    }
  });
}

export class LinkEmulator {
  readonly totals: RelayTotals = { connections: 0, upstreamBytes: 0, downstreamBytes: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const bps = options.bitsPerSecond ?? Number.POSITIVE_INFINITY;
    const maxQueued = options.maxQueuedBytes ?? 32 * 1024 * 1024;
    // Validate before listening, so a bad setting never leaves a half-started relay.
    new LinkPacer(options.oneWayDelayMs, bps);
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.listen(options.listenPort ?? 0, options.listenHost ?? '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('link emulator: could not read the listening port');
    const relay = new LinkEmulator(server, address.port);
    server.on('connection', (client) => relay.accept(client, options, bps, maxQueued));
    return relay;
  }

  private accept(client: Socket, options: LinkEmulatorOptions, bps: number, maxQueued: number): void {
    this.totals.connections++;
    const target = connect({ port: options.targetPort, host: options.targetHost, allowHalfOpen: true });
    for (const s of [client, target]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        target.destroy();
      });
    }
    target.once('connect', () => {
      pipeDirection(client, target, new LinkPacer(options.oneWayDelayMs, bps), maxQueued, (n) => (this.totals.upstreamBytes += n));
      pipeDirection(target, client, new LinkPacer(options.oneWayDelayMs, bps), maxQueued, (n) => (this.totals.downstreamBytes += n));
      client.resume();
    });
  }

  /** Stops listening and cuts every relayed connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
