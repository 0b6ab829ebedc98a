/**
 * The malloc trimmer (observability/malloc-trimmer.ts) over glibc (observability/glibc-malloc.ts):
 * it is absent where glibc or koffi is, it gives freed pages back on this (glibc) machine, and it
 * trims only when no session runs, once per burst of endings and at most once per interval.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bindGlibcMalloc, type GlibcMalloc, type MallocInfo } from '../../observability/glibc-malloc.js';
import { MallocTrimmer, processMallocTrimmer } from '../../observability/malloc-trimmer.js';
import { registerProcessMemoryMetrics } from '../../observability/process-memory.js';
import { Registry } from 'prom-client';

const onGlibc = process.platform === 'linux' && bindGlibcMalloc() !== undefined;

describe('glibc malloc binding', () => {
  it('is undefined off Linux, without koffi, and without glibc (musl has no libc.so.6)', () => {
    const koffi = () => {
      throw new Error('koffi never loaded off Linux');
    };
    expect(bindGlibcMalloc({ platform: 'darwin', loadKoffi: koffi })).toBeUndefined();
    expect(bindGlibcMalloc({ platform: 'win32', loadKoffi: koffi })).toBeUndefined();
    expect(
      bindGlibcMalloc({
        platform: 'linux',
        loadKoffi: () => {
          throw new Error("Cannot find module 'koffi'");
        },
      }),
    ).toBeUndefined();
    const musl = {
      load: () => {
        throw new Error('Error loading shared library libc.so.6: No such file or directory');
      },
      struct: () => ({}),
    };
    expect(bindGlibcMalloc({ platform: 'linux', loadKoffi: () => musl })).toBeUndefined();
  });

  it.runIf(onGlibc)('reads mallinfo2 and gives the pages of freed buffers back to the kernel', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const malloc = bindGlibcMalloc()!;
    const before: MallocInfo = malloc.info();
    expect(before.heapBytes).toBeGreaterThan(0);
    expect(before.inUseBytes + before.freeBytes).toBeLessThanOrEqual(before.heapBytes + 2 ** 20);
    // 48 MiB in 8-14 KiB native buffers (well under any mmap threshold: they sit in malloc's
    // heaps), then one kept buffer above them so that freeing them leaves a hole the heap's top
    // cannot release on its own.
    let buffers: Buffer[] = [];
    for (let bytes = 0; bytes < 48 * 2 ** 20; ) {
      const b = Buffer.allocUnsafeSlow(8192 + (buffers.length % 7) * 1024).fill(1);
      buffers.push(b);
      bytes += b.length;
    }
    const pin = Buffer.allocUnsafeSlow(4096).fill(2);
    const held = malloc.info().inUseBytes;
    expect(held - before.inUseBytes).toBeGreaterThan(40 * 2 ** 20);
    buffers = [];
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    const freed = malloc.info();
    expect(held - freed.inUseBytes).toBeGreaterThan(40 * 2 ** 20);
    const rssFreed = process.memoryUsage.rss();
    expect(typeof (await malloc.trim())).toBe('boolean');
    const released = rssFreed - process.memoryUsage.rss();
    // Without the trim the 48 MiB stay resident (glibc keeps freed chunks' pages).
    expect(released).toBeGreaterThan(24 * 2 ** 20);
    expect(pin[0]).toBe(2);
  });
});

describe('process memory metrics', () => {
  it.runIf(onGlibc)("export glibc's figures and the process trimmer's work", async () => {
    const registry = new Registry();
    registerProcessMemoryMetrics(registry, 'memtest_');
    await processMallocTrimmer().trimNow();
    const text = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^memtest_${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('malloc_in_use_bytes')).toBeGreaterThan(0);
    expect(value('malloc_heap_bytes')).toBeGreaterThanOrEqual(value('malloc_in_use_bytes'));
    expect(value('malloc_free_bytes')).toBeGreaterThanOrEqual(0);
    expect(value('malloc_mmapped_bytes')).toBeGreaterThanOrEqual(0);
    expect(value('malloc_trims_total')).toBeGreaterThanOrEqual(1);
    expect(value('malloc_trim_seconds_total')).toBeGreaterThan(0);
  });
});

/** A fake allocator that records when it was trimmed and lowers a fake RSS by 1 MiB per trim. */
function fakeMalloc(clock: { now: number }, rss: { bytes: number }, fail = false): GlibcMalloc & { trims: number[] } {
  const trims: number[] = [];
  return {
    trims,
    trim: () => {
      trims.push(clock.now);
      if (fail) return Promise.reject(new Error('trim failed'));
      rss.bytes -= 2 ** 20;
      return Promise.resolve(true);
    },
    info: () => ({ heapBytes: 0, mmappedBytes: 0, inUseBytes: 0, freeBytes: 0, topFreeBytes: 0 }),
  };
}

describe('MallocTrimmer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advances fake timers and the trimmer's clock together, letting the trim promises settle. */
  async function advance(clock: { now: number }, ms: number): Promise<void> {
    for (let step = 0; step < ms; step += 100) {
      clock.now += 100;
      await vi.advanceTimersByTimeAsync(100);
    }
  }

  function setup(fail = false) {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const rss = { bytes: 500 * 2 ** 20 };
    const malloc = fakeMalloc(clock, rss, fail);
    const trimmer = new MallocTrimmer({ malloc, quietMs: 1_000, minIntervalMs: 10_000, now: () => clock.now, rss: () => rss.bytes });
    return { clock, malloc, trimmer };
  }

  it('trims once after the last of a burst of sessions ends, quietMs later', async () => {
    const { clock, malloc, trimmer } = setup();
    for (let i = 0; i < 5; i++) trimmer.sessionStarted();
    for (let i = 0; i < 5; i++) {
      trimmer.sessionEnded();
      await advance(clock, 200);
    }
    expect(trimmer.activeSessions).toBe(0);
    // The last ended at 800 ms (the first four left others running): trim at 1,800.
    await advance(clock, 700);
    expect(malloc.trims).toEqual([]);
    await advance(clock, 400);
    expect(malloc.trims).toEqual([1_800]);
    expect(trimmer.stats).toMatchObject({ trims: 1, releasedBytes: 2 ** 20 });
    await advance(clock, 30_000);
    expect(malloc.trims).toHaveLength(1);
  });

  it('never trims while a session runs; a session starting in the quiet time cancels the trim', async () => {
    const { clock, malloc, trimmer } = setup();
    // Overlapping sessions for 35 s: the next starts before the previous ends.
    trimmer.sessionStarted();
    for (let t = 0; t < 35_000; t += 300) {
      trimmer.sessionStarted();
      trimmer.sessionEnded();
      await advance(clock, 300);
    }
    expect(malloc.trims).toEqual([]);
    trimmer.sessionEnded(); // idle from 35,100; the trim due at 36,100 finds a session running
    await advance(clock, 500);
    trimmer.sessionStarted(); // busy again inside the quiet second
    await advance(clock, 2_000);
    expect(malloc.trims).toEqual([]);
    trimmer.sessionEnded();
    await advance(clock, 1_100);
    expect(malloc.trims).toEqual([38_600]); // the stream ended at 35,100; the last session at 37,600
  });

  it('a session that comes and goes inside the quiet time postpones the trim until quiet again', async () => {
    const { clock, malloc, trimmer } = setup();
    trimmer.sessionStarted();
    trimmer.sessionEnded(); // idle at 0: due at 1,000
    await advance(clock, 500);
    trimmer.sessionStarted();
    await advance(clock, 200);
    trimmer.sessionEnded(); // idle again at 700: quiet from there until 1,700
    await advance(clock, 900);
    expect(malloc.trims).toEqual([]);
    await advance(clock, 200);
    expect(malloc.trims).toEqual([1_700]);
  });

  it('when sessions come and go trims at most once per interval, and once after the last', async () => {
    const { clock, malloc, trimmer } = setup();
    // A 100 ms session every 2 s for 35 s: idle most of the time.
    for (let t = 0; t < 50_000; t += 100) {
      if (t % 2_000 === 0 && t < 35_000) trimmer.sessionStarted();
      if (t % 2_000 === 100 && t < 35_000) trimmer.sessionEnded();
      await advance(clock, 100);
    }
    expect(malloc.trims).toEqual([1_100, 11_100, 21_100, 31_100, 41_100]);
    expect(trimmer.stats.trims).toBe(5);
  });

  it('does nothing without glibc, swallows a failing trim, and stops after close', async () => {
    vi.useFakeTimers();
    const none = new MallocTrimmer({ malloc: undefined });
    expect(none.supported).toBe(false);
    none.sessionEnded();
    await none.trimNow();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(none.stats).toEqual({ trims: 0, releasedBytes: 0, seconds: 0 });
    expect(vi.getTimerCount()).toBe(0);

    const failing = setup(true);
    failing.trimmer.sessionStarted();
    failing.trimmer.sessionEnded();
    await advance(failing.clock, 1_100);
    expect(failing.malloc.trims).toEqual([1_000]);
    expect(failing.trimmer.stats.trims).toBe(0);

    const closed = setup();
    closed.trimmer.sessionStarted();
    closed.trimmer.sessionEnded();
    closed.trimmer.close();
    closed.trimmer.sessionEnded();
    await advance(closed.clock, 20_000);
    expect(closed.malloc.trims).toEqual([]);
  });
});
