/**
 * jemalloc as the parties' malloc (config/allocator.ts): its figures are read through mallctl
 * (observability/jemalloc-stats.ts) only where it is the process's malloc, and, the reason it is
 * the default, it gives freed pages back on its own: in a child process started as `permllm
 * start` starts a party (LD_PRELOAD and MALLOC_CONF from allocatorEnvironment), 64 MiB of native
 * buffers show in stats.allocated, and once they are freed the resident figure falls back within
 * a few seconds, with no malloc_trim. Fails with jemalloc's purging off (checked with
 * dirty_decay_ms:-1: resident stayed up) or with the stats read from an allocator that is not
 * the process's.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocatorEnvironment, findJemalloc } from '../../config/allocator.js';
import { bindJemallocStats } from '../../observability/jemalloc-stats.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs `body` (an async function body with `stats` in scope) in a child on jemalloc; returns what it printed as JSON. */
function inJemallocChild(body: string, env: Record<string, string> = {}): unknown {
  const script = `
    const { bindJemallocStats } = await import(${JSON.stringify(path.join(root, 'observability/jemalloc-stats.ts'))});
    const stats = bindJemallocStats();
    const out = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify(out));`;
  const { env: allocator } = allocatorEnvironment('jemalloc', {});
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...allocator, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout);
}

const MiB = 2 ** 20;

describe('jemalloc figures', () => {
  it('are not read where jemalloc is not the malloc (this test process runs on glibc unless preloaded)', () => {
    expect(bindJemallocStats({ allocator: 'glibc' })).toBeUndefined();
    expect(bindJemallocStats({ allocator: 'unknown' })).toBeUndefined();
  });

  it.runIf(findJemalloc() !== undefined)('follow native buffers, and the freed pages leave the resident set without a trim', () => {
    const figures = inJemallocChild(`
      const before = stats();
      let buffers = Array.from({ length: 64 }, () => Buffer.allocUnsafeSlow(${MiB}).fill(7));
      const held = stats();
      buffers = undefined;
      globalThis.gc(); globalThis.gc();
      await new Promise((r) => setTimeout(r, 4000));
      return { before, held, after: stats() };
    `) as Record<'before' | 'held' | 'after', { allocatedBytes: number; residentBytes: number }>;
    expect(figures.held.allocatedBytes - figures.before.allocatedBytes).toBeGreaterThan(60 * MiB);
    expect(figures.held.residentBytes - figures.before.residentBytes).toBeGreaterThan(60 * MiB);
    expect(figures.held.allocatedBytes - figures.after.allocatedBytes).toBeGreaterThan(60 * MiB);
    // Purged by jemalloc's background thread after dirty_decay_ms (1 s): most of the 64 MiB is no longer resident.
    expect(figures.held.residentBytes - figures.after.residentBytes).toBeGreaterThan(48 * MiB);
  });
});
