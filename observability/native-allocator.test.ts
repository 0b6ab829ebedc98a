/**
 * Which malloc a process runs on, read from its memory map (./native-allocator.ts): a preloaded
 * jemalloc is found ahead of glibc's libc, and glibc's figures are not bound under it
 * (./glibc-malloc.ts).
 */
import { describe, expect, it } from 'vitest';
import { bindGlibcMalloc } from './glibc-malloc.js';
import { allocatorFromMaps, nativeAllocator } from './native-allocator.js';

const libc = '7f2a1c000000-7f2a1c028000 r--p 00000000 08:01 131 /usr/lib/x86_64-linux-gnu/libc.so.6\n';
const jemalloc = '7f2a1b000000-7f2a1b010000 r--p 00000000 08:01 140 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n';

describe('the native allocator', () => {
  it('reads glibc, a preloaded jemalloc, and nothing', () => {
    expect(allocatorFromMaps(libc)).toBe('glibc');
    expect(allocatorFromMaps(jemalloc + libc)).toBe('jemalloc');
    expect(allocatorFromMaps(libc + '7f00-7f10 r-xp 0 0:0 1 /usr/lib/libtcmalloc_minimal.so.4\n')).toBe('tcmalloc');
    expect(allocatorFromMaps(undefined)).toBe('unknown');
    expect(allocatorFromMaps('')).toBe('unknown');
  });

  it.runIf(process.platform === 'linux')('finds this process on glibc or a preloaded allocator, as its LD_PRELOAD says', () => {
    expect(nativeAllocator()).toBe(process.env['LD_PRELOAD']?.includes('jemalloc') ? 'jemalloc' : 'glibc');
  });

  it('binds no glibc figures under another allocator', () => {
    expect(bindGlibcMalloc({ platform: 'linux', allocator: 'jemalloc' })).toBeUndefined();
  });
});
