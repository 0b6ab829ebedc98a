/**
 * jemalloc's own figures, where it is this process's malloc (preloaded by config/allocator.ts;
 * ./native-allocator.ts tells), read through koffi with `mallctl`: what the process has
 * allocated and what of it is resident, so an operator can tell live native memory from pages
 * the allocator still holds. jemalloc caches its statistics; writing `epoch` refreshes them.
 *
 * `bindJemallocStats` returns undefined wherever jemalloc is not the process's malloc (loading
 * the library by name there would read the figures of an allocator nobody uses) or koffi is
 * missing.
 */
import { createRequire } from 'node:module';
import { nativeAllocator, type NativeAllocator } from './native-allocator.js';

/** jemalloc's `stats.*` (bytes). */
export interface JemallocStats {
  /** `stats.allocated`: bytes in allocations the application holds. */
  allocatedBytes: number;
  /** `stats.active`: bytes in active pages (allocated, rounded up to whole pages). */
  activeBytes: number;
  /** `stats.resident`: bytes of jemalloc's memory resident in RAM (active, metadata, and dirty pages not yet purged). */
  residentBytes: number;
  /** `stats.mapped`: bytes in jemalloc's mapped extents. */
  mappedBytes: number;
  /** `stats.retained`: bytes of virtual memory kept mapped but returned to the kernel (not resident). */
  retainedBytes: number;
}

type Fn = (...args: unknown[]) => number;
interface Koffi {
  load(path: string): { func(signature: string): Fn };
}

const FIELDS: [keyof JemallocStats, string][] = [
  ['allocatedBytes', 'stats.allocated'],
  ['activeBytes', 'stats.active'],
  ['residentBytes', 'stats.resident'],
  ['mappedBytes', 'stats.mapped'],
  ['retainedBytes', 'stats.retained'],
];

export interface JemallocSource {
  allocator?: NativeAllocator;
  loadKoffi?: () => Koffi;
}

/** A reader of jemalloc's figures (refreshed at each call), or undefined where jemalloc is not this process's malloc. */
export function bindJemallocStats(source: JemallocSource = {}): (() => JemallocStats) | undefined {
  if ((source.allocator ?? nativeAllocator()) !== 'jemalloc') return undefined;
  try {
    const koffi = (source.loadKoffi ?? (() => createRequire(import.meta.url)('koffi') as Koffi))();
    const mallctl = koffi.load('libjemalloc.so.2').func('int mallctl(const char *name, void *oldp, void *oldlenp, void *newp, size_t newlen)');
    const epoch = Buffer.alloc(8);
    const value = Buffer.alloc(8);
    const length = Buffer.alloc(8);
    const read = (name: string): number => {
      length.writeBigUInt64LE(8n);
      if (mallctl(name, value, length, null, 0) !== 0) throw new Error(`mallctl ${name} failed`);
      return Number(value.readBigUInt64LE());
    };
    const stats = (): JemallocStats => {
      epoch.writeBigUInt64LE(1n);
      mallctl('epoch', null, null, epoch, 8);
      return Object.fromEntries(FIELDS.map(([key, name]) => [key, read(name)])) as unknown as JemallocStats;
    };
    stats(); // fails here, not at the first scrape, where the library lacks the names
    return stats;
  } catch {
    return undefined;
  }
}
