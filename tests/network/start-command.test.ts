/**
 * `permllm start` (what `npm start` runs): three child processes on loopback, the gateway's URL
 * printed, a private completion served, all three gone after SIGTERM, and a second run reusing
 * the pairing and the cached masked model. The children run on the allocator config/allocator.ts
 * chooses: jemalloc preloaded where libjemalloc.so.2 is installed (mapped in each child, and the
 * gateway's /metrics says so), with the image's glibc settings (MALLOC_ARENA_MAX,
 * MALLOC_MMAP_THRESHOLD_) either way where the caller set none (Linux: read from
 * /proc/<child>/environ and /proc/<child>/maps).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findJemalloc, JEMALLOC_CONF } from '../../config/allocator.js';
import { complete } from '../helpers/openai-requests.js';
import { defaultModelDir, killAllRoles, startRole, waitFor, waitForReadiness } from '../helpers/processes.js';

let dir: string | undefined;

afterAll(async () => {
  await killAllRoles();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('permllm start', () => {
  it('runs engine, dealer and gateway as child processes and stops them all on SIGTERM', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'permllm-start-'));
    const start = await startRole('start', ['--port', '0'], {
      env: { XDG_STATE_HOME: path.join(dir, 'state'), PERMLLM_CACHE_DIR: path.join(dir, 'cache'), PERMLLM_MODEL: defaultModelDir },
      ready: /PermLLM is running: OpenAI base URL (\S+)\/v1/,
    });
    const children = [...start.stdout().matchAll(/permllm (engine|dealer|gateway) listening on (\S+)/g)].map((m) => m[2]!);
    expect(children).toHaveLength(3);
    // Zero set-up: identities and credentials were created, each party pinned the others.
    expect(start.stdout()).toMatch(/identities and credentials in \S+permllm\/start \(engine SHA256:\S+, dealer SHA256:\S+\)/);
    await waitForReadiness(start.url, true);
    if (process.platform === 'linux') {
      const pid = start.child.pid!;
      const childPids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
      expect(childPids).toHaveLength(3);
      for (const child of childPids) {
        const environ = (await readFile(`/proc/${child}/environ`, 'utf8')).split('\0');
        expect(environ).toContain('MALLOC_ARENA_MAX=2');
        expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
        const jemalloc = findJemalloc();
        const maps = await readFile(`/proc/${child}/maps`, 'utf8');
        if (jemalloc) {
          expect(environ).toContain(`LD_PRELOAD=${jemalloc}`);
          expect(environ).toContain(`MALLOC_CONF=${JEMALLOC_CONF}`);
          expect(maps).toContain(jemalloc);
        } else {
          expect(environ.some((v) => v.startsWith('LD_PRELOAD='))).toBe(false);
          expect(maps).not.toContain('libjemalloc');
        }
      }
      const metrics = await (await fetch(`${start.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`allocator_info\\{allocator="${findJemalloc() ? 'jemalloc' : 'glibc'}"\\} 1`));
      // jemalloc's own figures under it, glibc's under glibc (never both).
      expect(metrics.includes('_jemalloc_allocated_bytes ')).toBe(findJemalloc() !== undefined);
      expect(metrics.includes('_malloc_in_use_bytes ')).toBe(findJemalloc() === undefined);
      expect(start.stdout()).toContain(findJemalloc() ? `the three run on jemalloc (${findJemalloc()})` : 'the three run on glibc malloc');
    }
    expect((await complete(`${start.url}/v1`, { prompt: 'Once upon a time', max_tokens: 6 })).text).toBe(', there was a little g');

    start.child.kill('SIGTERM');
    expect((await start.exited).code).toBe(0);
    for (const url of children) {
      await waitFor(`${url} to stop`, async () => (await fetch(`${url}/healthz`).then(() => false, () => true)) || undefined);
    }

    // A second run (new ports, same state and cache folders) keeps the pairing: no new download.
    const again = await startRole('start', ['--port', '0'], { env: start.env, ready: /PermLLM is running: OpenAI base URL (\S+)\/v1/ });
    expect(again.stderr()).toContain('using the cached masked model');
    expect(again.stderr()).not.toContain('masked model verified');
    await again.stop();
  });
});
