/**
 * Which native allocator the parties' processes run on: the one place that decides what
 * `permllm start` puts in its children's environment (and what scripts/soak.ts measures with).
 * The image (Dockerfile) sets the same variables for every role.
 *
 * Why it matters (issue 15: memory flat under load): under glibc's malloc a party's RSS ratchets
 * up to the highest concurrency it has seen, because glibc keeps the pages of freed chunks
 * resident inside its heaps, and only an explicit malloc_trim (observability/malloc-trimmer.ts,
 * run when the party idles) gives them back; glibc's in-use bytes stay flat meanwhile. jemalloc
 * returns freed pages on its own after `dirty_decay_ms`, from a background thread, so RSS follows
 * the memory in use under steady load too (docs/deploy.md, Memory).
 *
 * - `jemalloc`: preload libjemalloc.so.2 (Debian package libjemalloc2) with MALLOC_CONF = JEMALLOC_CONF;
 *   refused where the library is not installed.
 * - `glibc`: glibc's malloc with the image's settings (at most two arenas, buffers of 128 KiB and
 *   more in their own mappings, unmapped when freed).
 * - `auto` (default): jemalloc where installed, else glibc.
 *
 * A variable the caller already set wins over the choice: an LD_PRELOAD of the caller's own
 * means the caller picked the allocator, and nothing is added.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';

export const ALLOCATORS = ['auto', 'jemalloc', 'glibc'] as const;
export type AllocatorChoice = (typeof ALLOCATORS)[number];
export const allocatorSchema = z.enum(ALLOCATORS);

/** Where Debian and most distributions install jemalloc's shared library. */
export const JEMALLOC_LIBRARY_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
] as const;

/**
 * jemalloc's settings: purge freed pages from a background thread (not inline in an event
 * loop's free()), dirty pages after 1 s, and no second "muzzy" stage that would keep them mapped.
 */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';

/** glibc's settings (the image's before jemalloc; still what a process without jemalloc gets). */
export const GLIBC_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/** The installed jemalloc library, if any. */
export function findJemalloc(exists: (path: string) => boolean = existsSync): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return JEMALLOC_LIBRARY_PATHS.find((p) => exists(p));
}

export interface AllocatorEnvironment {
  /** The allocator the children will run on. */
  allocator: 'jemalloc' | 'glibc' | 'caller';
  /** Variables to add to the children's environment (none the caller set is overridden). */
  env: Record<string, string>;
}

/**
 * The variables that give a child process `choice`'s allocator, given the caller's environment.
 * Throws for `jemalloc` where the library is not installed.
 */
export function allocatorEnvironment(choice: AllocatorChoice, callerEnv: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): AllocatorEnvironment {
  if (callerEnv['LD_PRELOAD']) return { allocator: 'caller', env: {} };
  const unset = (vars: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(vars).filter(([name]) => callerEnv[name] === undefined));
  const library = choice === 'glibc' ? undefined : findJemalloc(exists);
  if (choice === 'jemalloc' && library === undefined) {
    throw new Error(`--allocator jemalloc: no libjemalloc.so.2 in ${JEMALLOC_LIBRARY_PATHS.join(', ')} (Debian: apt-get install libjemalloc2)`);
  }
  if (library === undefined) return { allocator: 'glibc', env: unset(GLIBC_MALLOC_ENV) };
  // glibc's variables too: harmless under jemalloc, and what a grandchild without LD_PRELOAD would get.
  return { allocator: 'jemalloc', env: unset({ LD_PRELOAD: library, MALLOC_CONF: JEMALLOC_CONF, ...GLIBC_MALLOC_ENV }) };
}
