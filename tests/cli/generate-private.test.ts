/**
 * `permllm generate` without --plaintext runs the private protocol in one process: its text must
 * equal the plaintext text, and --json must carry the protocol statistics.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

async function generate(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('node', ['bin/permllm.mjs', 'generate', '--prompt', 'Once upon a time', '-n', '24', '--temperature', '0', '--json', ...args], { cwd: root });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('permllm generate (private, in-process)', () => {
  it('prints the plaintext text and the protocol statistics', async () => {
    const [plain, priv] = await Promise.all([generate('--plaintext'), generate()]);
    expect(priv.text).toBe(plain.text);
    expect(priv.completionTokens).toBe(24);
    expect(plain).not.toHaveProperty('stats');
    const stats = priv.stats as { flightsPerLayer: number; flightsPerDecodedToken: number; bytesPerToken: Record<string, number>; prefillMs: number; decodeMs: number };
    // stories260K has 5 layers: 8 flights per layer (beaver, deferred FFN norm, fused P·V), plus embedding, final norm, logits and lookup.
    expect(stats.flightsPerLayer).toBe(8);
    expect(stats.flightsPerDecodedToken).toBe(8 * 5 + 6);
    for (const key of ['toEngine', 'fromEngine', 'fromDealer']) expect(stats.bytesPerToken[key]).toBeGreaterThan(0);
    expect(stats.prefillMs).toBeGreaterThan(0);
    expect(stats.decodeMs).toBeGreaterThan(0);
  });
});
