/**
 * The WAN relay and the in-process link emulator forward every byte, in order, both ways, and
 * end cleanly. Delays are the benchmark's to measure; no assertion here depends on timing.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { emulateLink } from '../../bench/emulated-link.js';
import { LinkEmulator } from '../../bench/link-emulator.js';
import { DueQueue, LinkPacer } from '../../bench/link-pacer.js';
import { LINK_SETTINGS } from '../../bench/link-settings.js';
import { tcpLinkPair } from '../../bench/tcp-frame-link.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

describe('LinkPacer', () => {
  it('serializes at the bandwidth and adds the one-way delay after the last bit', () => {
    const pacer = new LinkPacer(5, 8e6); // 1 byte per microsecond
    expect(pacer.schedule(1000, 0)).toBeCloseTo(1 + 5); // 1 ms on the wire
    expect(pacer.schedule(1000, 0)).toBeCloseTo(2 + 5); // queued behind the first
    expect(pacer.schedule(1000, 10)).toBeCloseTo(11 + 5); // wire idle again
    expect(new LinkPacer(0, Number.POSITIVE_INFINITY).transparent).toBe(true);
    expect(() => new LinkPacer(-1, 1)).toThrow(RangeError);
  });

  it('DueQueue releases in push order even when due times tie', async () => {
    const released: number[] = [];
    const done = new Promise<void>((resolve) => {
      const q = new DueQueue<number>((n) => {
        released.push(n);
        if (released.length === 50) resolve();
      });
      const now = performance.now();
      for (let i = 0; i < 50; i++) q.push(i, now + 1);
    });
    await done;
    expect(released).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('LinkEmulator (TCP relay)', () => {
  it('relays a few MB both ways intact, then ends each direction', async () => {
    const up = pattern(3_000_000, 7);
    const down = pattern(1_500_000, 11);
    let upstream: Promise<Buffer> | undefined;
    const server = createServer({ allowHalfOpen: true }, (s) => {
      upstream = readAll(s);
      s.end(down);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const relay = await LinkEmulator.start({ targetHost: '127.0.0.1', targetPort: address.port, oneWayDelayMs: 2, bitsPerSecond: 2e9, maxQueuedBytes: 256 * 1024 });
    try {
      const client = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true });
      await once(client, 'connect');
      const received = readAll(client);
      client.end(up);
      expect((await received).equals(down)).toBe(true);
      expect((await upstream!).equals(up)).toBe(true);
      expect(relay.totals).toEqual({ connections: 1, upstreamBytes: up.length, downstreamBytes: down.length });
    } finally {
      await relay.close();
      server.close();
    }
  });

  it('carries protocol frames between TcpFrameLinks through a paced relay', async () => {
    let relay: LinkEmulator | undefined;
    const pair = await tcpLinkPair(async (port) => {
      relay = await LinkEmulator.start({ targetHost: '127.0.0.1', targetPort: port, oneWayDelayMs: 1, bitsPerSecond: 1e9 });
      return relay.port;
    });
    try {
      const frames = [pattern(10, 1), pattern(200_000, 2), pattern(0, 3), pattern(70_000, 4)].map((b) => new Uint8Array(b));
      for (const f of frames) await pair.client.send(f);
      for (const f of frames) expect(Buffer.from(await pair.server.receive()).equals(Buffer.from(f))).toBe(true);
      await pair.server.send(frames[1]!);
      expect((await pair.client.receive()).length).toBe(200_000);
      pair.client.close();
      await expect(pair.server.receive()).rejects.toThrow(/closed/);
    } finally {
      pair.close();
      await relay?.close();
    }
  });
});

describe('emulateLink (in-process)', () => {
  it('delivers every frame in order, and still delivers what was sent before close', async () => {
    const [a, b] = inProcessLinkPair();
    const slow = emulateLink(a, LINK_SETTINGS.paper);
    const sent = Array.from({ length: 20 }, (_, i) => new Uint8Array(pattern(100 * i + 1, i)));
    for (const f of sent) await slow.send(f);
    slow.close();
    expect(slow.isClosed).toBe(true);
    for (const f of sent) expect(Buffer.from(await b.receive()).equals(Buffer.from(f))).toBe(true);
    await expect(b.receive()).rejects.toThrow();
  });

  it('leaves an unemulated link as it is', () => {
    const [a] = inProcessLinkPair();
    expect(emulateLink(a, LINK_SETTINGS.none)).toBe(a);
  });
});
