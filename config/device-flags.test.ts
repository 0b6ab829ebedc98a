/**
 * `--compute-threads` / PERMLLM_COMPUTE_THREADS: the compute worker pool's size on every party,
 * defaulting to defaultComputeThreads() (half the cores, 1 to 4); 0 keeps the products in-thread;
 * out-of-range values are refused at start-up with the flag named.
 */
import { describe, expect, it } from 'vitest';
import { defaultComputeThreads, MAX_COMPUTE_THREADS } from '../compute/worker/worker-pool-backend.js';
import { dealerConfigSchema, dealerFlags } from './dealer-config.js';
import { engineConfigSchema, engineFlags } from './engine-config.js';
import { parseCommandLine } from './parse-flags.js';

describe('--compute-threads', () => {
  it('defaults to half the cores between 1 and 4', () => {
    expect([1, 2, 3, 4, 8, 16, 64].map((cores) => defaultComputeThreads(cores))).toEqual([1, 1, 1, 2, 4, 4, 4]);
    const parsed = parseCommandLine([], dealerFlags, dealerConfigSchema, {});
    if (!('config' in parsed)) throw new Error(JSON.stringify(parsed));
    expect(parsed.config['compute-threads']).toBe(defaultComputeThreads());
  });

  it('is read from the flag or the environment, 0 allowed, out of range refused', () => {
    const base = ['--dealer', 'http://d:2'];
    const flag = parseCommandLine([...base, '--compute-threads', '0'], engineFlags, engineConfigSchema, { PERMLLM_COMPUTE_THREADS: '3' });
    if (!('config' in flag)) throw new Error(JSON.stringify(flag));
    expect(flag.config['compute-threads']).toBe(0);
    const env = parseCommandLine(base, engineFlags, engineConfigSchema, { PERMLLM_COMPUTE_THREADS: '3' });
    if (!('config' in env)) throw new Error(JSON.stringify(env));
    expect(env.config['compute-threads']).toBe(3);
    for (const bad of ['-1', String(MAX_COMPUTE_THREADS + 1), '1.5', 'many']) {
      const refused = parseCommandLine([...base, '--compute-threads', bad], engineFlags, engineConfigSchema, {});
      expect(refused, bad).toEqual({ errors: [expect.stringMatching(/compute-threads/)] });
    }
  });
});
