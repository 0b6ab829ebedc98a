import { describe, expect, it } from 'vitest';
import { Prg } from './prg.js';

describe('Prg', () => {
  it('is deterministic in its key and differs across keys', () => {
    const k = new Uint8Array(32).fill(7);
    expect(new Prg(k).uniformArray(8, 1)).toEqual(new Prg(k).uniformArray(8, 1));
    expect(new Prg(new Uint8Array(32).fill(8)).uniformArray(8, 1)).not.toEqual(new Prg(k).uniformArray(8, 1));
  });

  it('draws uniform values with the right mean and range', () => {
    const xs = Prg.random().uniformArray(100_000, 4);
    let sum = 0;
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(-4);
      expect(x).toBeLessThan(4);
      sum += x;
    }
    // Mean of U(−4, 4) is 0 with standard error 4/sqrt(3)/sqrt(1e5) ≈ 0.0073: 5 sigma bound.
    expect(Math.abs(sum / xs.length)).toBeLessThan(0.037);
  });

  it('produces permutations that are bijections and not the identity', () => {
    const p = Prg.random().permutation(1000);
    expect(new Set(p).size).toBe(1000);
    expect([...p].some((v, i) => v !== i)).toBe(true);
  });

  it('draws every permutation equally often (Fisher–Yates from one keystream read)', () => {
    const prg = Prg.random();
    const counts = new Map<string, number>();
    const draws = 60_000;
    for (let i = 0; i < draws; i++) {
      const key = prg.permutation(3).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // Each of the 6 has mean 10,000, sd sqrt(10000·5/6) ≈ 91: a 5-sd bound (a naive shuffle gives 8,889 or 11,111).
    for (const n of counts.values()) expect(Math.abs(n - draws / 6)).toBeLessThan(460);
  });

  it('draws the same permutation from the same key (P0 and the dealer agree), and none twice in a stream', () => {
    const k = new Uint8Array(32).fill(9);
    const [a, b] = [new Prg(k), new Prg(k)];
    for (const n of [1, 2, 7, 4096, 128_256]) expect(Buffer.from(a.permutation(n).buffer).equals(Buffer.from(b.permutation(n).buffer))).toBe(true);
    expect(Buffer.from(a.permutation(4096).buffer).equals(Buffer.from(a.permutation(4096).buffer))).toBe(false);
  });

  it('gives one keystream however the reads are split', () => {
    const k = new Uint8Array(32).fill(3);
    const a = new Prg(k);
    const pieces = Buffer.concat([a.bytes(10), a.bytes(200_000), a.bytes(5), a.bytes(70_000), a.bytes(1)]);
    expect(pieces.equals(new Prg(k).bytes(pieces.length))).toBe(true);
  });

  it('fills a caller\'s array (whatever it held) with the same keystream as bytes()', () => {
    const k = new Uint8Array(32).fill(4);
    const a = new Prg(k);
    const target = new Uint8Array(300_000).fill(0xa5);
    a.fill(target.subarray(0, 7));
    a.fill(target.subarray(7, 140_007));
    a.fill(target.subarray(140_007, 140_100));
    a.fill(target.subarray(140_100));
    expect(Buffer.from(target).equals(new Prg(k).bytes(target.length))).toBe(true);
  });

  it('draws permutations from the keystream exactly as rejection sampling on its 4-byte words does', () => {
    // Reference: Fisher–Yates over words read with bytes(4), across block boundaries and after an odd read.
    const k = new Uint8Array(32).fill(9);
    const reference = (prg: Prg, n: number) => {
      const p = new Uint32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const limit = 2 ** 32 - (2 ** 32 % (i + 1));
        let x: number;
        do x = prg.bytes(4).readUInt32LE(0);
        while (x >= limit);
        const j = x % (i + 1);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      return p;
    };
    const fast = new Prg(k);
    const slow = new Prg(k);
    expect(fast.bytes(3)).toEqual(slow.bytes(3));
    expect(fast.permutation(40_000)).toEqual(reference(slow, 40_000));
    expect(fast.permutation(7)).toEqual(reference(slow, 7));
    expect(fast.bytes(70_001)).toEqual(slow.bytes(70_001));
  });

  it('rejects short keys', () => {
    expect(() => new Prg(new Uint8Array(16))).toThrow(/32 bytes/);
  });

  it('seeded generators reproduce per seed and domain', () => {
    expect(Prg.fromSeed('sample', 42).uniform()).toBe(Prg.fromSeed('sample', 42).uniform());
    expect(Prg.fromSeed('sample', 42).uniform()).not.toBe(Prg.fromSeed('sample', 43).uniform());
  });
});
