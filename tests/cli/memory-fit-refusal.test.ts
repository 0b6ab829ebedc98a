/**
 * Issue 13: `permllm engine` refuses, before calibrating or folding anything, a model that will
 * not fit in the memory it may use, and says how much it needs (a real process). The engine runs
 * with its default compute workers, so the figure counts their copy of the stored weights.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { binPath, defaultModelDir } from '../helpers/processes.js';

const run = promisify(execFile);

it('the engine refuses a model needing more than --memory-limit, with the figure, and exits non-zero', async () => {
  const state = await mkdtemp(path.join(tmpdir(), 'permllm-memory-'));
  try {
    const failure = (await run(process.execPath, [binPath, 'engine', '--model', defaultModelDir, '--dealer', 'http://127.0.0.1:9', '--port', '0', '--state-dir', state, '--memory-limit', '100000000'], { timeout: 60_000 }).catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(failure.code).not.toBe(0);
    expect(failure.code).toBeDefined();
    expect(failure.stderr).toMatch(/refusing to start: the engine needs about 0\.\d GiB for this model \([\d,]+ parameters × 27 B at its peak under ring64, 2 B of them the compute workers' copy of the stored weights\), and 0\.1 GiB is available/);
    expect(failure.stderr).not.toMatch(/calibrated the fixed-point plan/);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});
