/**
 * Which malloc this process runs on: glibc's, or one preloaded in its place (config/allocator.ts
 * preloads jemalloc for `permllm start` and the image). Read from the shared objects mapped into
 * the process (/proc/self/maps), since a preloaded allocator replaces malloc without telling
 * anyone. glibc's figures and trims (./glibc-malloc.ts, ./malloc-trimmer.ts) mean something only
 * under glibc's malloc: under jemalloc, glibc's own heaps are empty and jemalloc returns its free
 * pages itself.
 */
import { readFileSync } from 'node:fs';

export type NativeAllocator = 'glibc' | 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'unknown';

const PRELOADED: [RegExp, NativeAllocator][] = [
  [/\/libjemalloc[^/]*\.so/, 'jemalloc'],
  [/\/libtcmalloc[^/]*\.so/, 'tcmalloc'],
  [/\/libmimalloc[^/]*\.so/, 'mimalloc'],
];

/** The allocator named by a process's memory map text (Linux), `unknown` where none can be read. */
export function allocatorFromMaps(maps: string | undefined): NativeAllocator {
  if (maps === undefined) return 'unknown';
  for (const [pattern, name] of PRELOADED) if (pattern.test(maps)) return name;
  return /\/libc(\.so|-[\d.]+\.so)/.test(maps) ? 'glibc' : 'unknown';
}

let processAllocator: NativeAllocator | undefined;

/** This process's allocator (read once). */
export function nativeAllocator(): NativeAllocator {
  if (processAllocator === undefined) {
    let maps: string | undefined;
    try {
      maps = process.platform === 'linux' ? readFileSync('/proc/self/maps', 'utf8') : undefined;
    } catch {
      maps = undefined;
    }
    processAllocator = allocatorFromMaps(maps);
  }
  return processAllocator;
}
