/**
 * glibc's allocator, reached through koffi (the prebuilt FFI, an optional dependency), for the
 * two things Node does not expose: its figures (`mallinfo2`) and giving freed pages back to the
 * kernel (`malloc_trim`). glibc keeps the pages of freed chunks resident inside its heaps (only
 * the top of the main heap is released on its own, past M_TRIM_THRESHOLD), so a process that
 * once held a peak of native buffers (frames, shares, tensors, TLS and ws buffers) keeps that
 * RSS after the buffers are gone; `malloc_trim(0)` walks every arena and returns the whole free
 * pages in the middle of each heap (MADV_DONTNEED) as well as the top.
 *
 * `bindGlibcMalloc` returns undefined wherever this cannot work or means nothing (not Linux,
 * another malloc preloaded in glibc's place (./native-allocator.ts), koffi missing, no
 * `libc.so.6` as on musl, or a glibc older than 2.33 without `mallinfo2`): callers then do
 * nothing. Loaded once per process.
 */
import { createRequire } from 'node:module';
import { nativeAllocator, type NativeAllocator } from './native-allocator.js';

/** glibc's `struct mallinfo2` figures, summed over all arenas (bytes). */
export interface MallocInfo {
  /** `arena`: bytes obtained from the kernel for the heaps (sbrk and arena heaps), excluding mmapped chunks. */
  heapBytes: number;
  /** `hblkhd`: bytes in chunks mmapped on their own (at or above M_MMAP_THRESHOLD), unmapped when freed. */
  mmappedBytes: number;
  /** `uordblks`: bytes in chunks in use. */
  inUseBytes: number;
  /** `fordblks`: bytes in free chunks inside the heaps (resident unless trimmed or never touched). */
  freeBytes: number;
  /** `keepcost`: bytes at the top of the main heap that a trim could release from its end. */
  topFreeBytes: number;
}

export interface GlibcMalloc {
  /** `malloc_trim(0)` on a koffi worker thread, off the event loop; resolves with whether memory was released. */
  trim(): Promise<boolean>;
  /** `mallinfo2()`. */
  info(): MallocInfo;
}

type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

interface Koffi {
  load(path: string): { func(name: string, result: unknown, args: unknown[]): Fn; func(signature: string): Fn };
  /** An anonymous struct type (a named one could be declared only once per process). */
  struct(fields: Record<string, string>): unknown;
}

const MALLINFO2_FIELDS = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'] as const;

/** How to reach glibc; the defaults are this process's platform and `require('koffi')` (tests replace them). */
export interface GlibcMallocSource {
  platform?: NodeJS.Platform;
  loadKoffi?: () => Koffi;
  /** The process's malloc (default ./native-allocator.ts's reading): anything but glibc's binds nothing. */
  allocator?: NativeAllocator;
}

/** Binds glibc's malloc_trim and mallinfo2, or returns undefined where either is missing. */
export function bindGlibcMalloc(source: GlibcMallocSource = {}): GlibcMalloc | undefined {
  if ((source.platform ?? process.platform) !== 'linux') return undefined;
  // A preloaded jemalloc (config/allocator.ts) serves malloc: glibc's heaps are then empty.
  if ((source.allocator ?? nativeAllocator()) !== 'glibc') return undefined;
  try {
    const koffi = (source.loadKoffi ?? (() => createRequire(import.meta.url)('koffi') as Koffi))();
    // musl has no libc.so.6 (and no malloc_trim); glibc before 2.33 has no mallinfo2: both throw here.
    const libc = koffi.load('libc.so.6');
    const trimFn = libc.func('int malloc_trim(size_t pad)');
    const struct = koffi.struct(Object.fromEntries(MALLINFO2_FIELDS.map((f) => [f, 'size_t'])));
    const infoFn = libc.func('mallinfo2', struct, []);
    return {
      trim: () =>
        new Promise<boolean>((resolve, reject) => {
          trimFn.async(0, (error: unknown, released: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(released === 1)));
        }),
      info: () => {
        const m = infoFn() as Record<(typeof MALLINFO2_FIELDS)[number], number | bigint>;
        const n = (v: number | bigint) => Number(v);
        return { heapBytes: n(m.arena), mmappedBytes: n(m.hblkhd), inUseBytes: n(m.uordblks), freeBytes: n(m.fordblks), topFreeBytes: n(m.keepcost) };
      },
    };
  } catch {
    return undefined;
  }
}

let processMalloc: GlibcMalloc | undefined | null = null;

/** This process's glibc allocator (bound at the first call), or undefined where it is not glibc or koffi is missing. */
export function glibcMalloc(): GlibcMalloc | undefined {
  if (processMalloc === null) processMalloc = bindGlibcMalloc();
  return processMalloc;
}
