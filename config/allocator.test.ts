/**
 * The children's allocator (config/allocator.ts): what each choice puts in the environment, that
 * the caller's own variables win, and that an explicit jemalloc without the library is refused.
 */
import { describe, expect, it } from 'vitest';
import { allocatorEnvironment, findJemalloc, GLIBC_MALLOC_ENV, JEMALLOC_CONF, JEMALLOC_LIBRARY_PATHS } from './allocator.js';

const installed = (path: string) => path === JEMALLOC_LIBRARY_PATHS[0];
const missing = () => false;

describe.runIf(process.platform === 'linux')('allocatorEnvironment', () => {
  it('auto preloads jemalloc where it is installed, with its settings, and keeps the glibc ones for anything without it', () => {
    expect(allocatorEnvironment('auto', {}, installed)).toEqual({
      allocator: 'jemalloc',
      env: { LD_PRELOAD: JEMALLOC_LIBRARY_PATHS[0], MALLOC_CONF: JEMALLOC_CONF, ...GLIBC_MALLOC_ENV },
    });
    expect(JEMALLOC_CONF).toContain('background_thread:true');
  });

  it('auto falls back to glibc with the image settings where jemalloc is missing', () => {
    expect(allocatorEnvironment('auto', {}, missing)).toEqual({ allocator: 'glibc', env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } });
  });

  it('glibc never preloads, even where jemalloc is installed', () => {
    expect(allocatorEnvironment('glibc', {}, installed)).toEqual({ allocator: 'glibc', env: GLIBC_MALLOC_ENV });
  });

  it('refuses an explicit jemalloc that is not installed, naming the package', () => {
    expect(() => allocatorEnvironment('jemalloc', {}, missing)).toThrow(/libjemalloc2/);
  });

  it("leaves the caller's choices alone: its LD_PRELOAD means no allocator is added, its MALLOC_* values are kept", () => {
    expect(allocatorEnvironment('jemalloc', { LD_PRELOAD: '/opt/my/libtcmalloc.so' }, installed)).toEqual({ allocator: 'caller', env: {} });
    const kept = allocatorEnvironment('auto', { MALLOC_CONF: 'narenas:1', MALLOC_ARENA_MAX: '4' }, installed);
    expect(kept.env).toEqual({ LD_PRELOAD: JEMALLOC_LIBRARY_PATHS[0], MALLOC_MMAP_THRESHOLD_: '131072' });
  });

  it('finds the first installed path', () => {
    expect(findJemalloc(installed)).toBe(JEMALLOC_LIBRARY_PATHS[0]);
    expect(findJemalloc((p) => p === JEMALLOC_LIBRARY_PATHS[2])).toBe(JEMALLOC_LIBRARY_PATHS[2]);
    expect(findJemalloc(missing)).toBeUndefined();
  });
});
