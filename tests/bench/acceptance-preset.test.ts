/**
 * `permllm bench --acceptance` (issue 12): the preset names every (model, profile) cell the
 * acceptance table needs, measures long prompts only where it says, and refuses flags that
 * would silently change it. No figure is asserted; nothing is measured here.
 */
import { describe, expect, it } from 'vitest';
import { ACCEPTANCE_PRESET } from '../../bench/acceptance-preset.js';
import { BENCH_MODELS } from '../../bench/bench-models.js';
import { DEFAULT_BENCH_PROFILES, parseBenchProfile } from '../../bench/bench-runner.js';
import { run } from '../../cli/bench-command.js';

describe('the acceptance preset', () => {
  it('covers stories260K, the 100M preset and the 8B layer at every profile and link', () => {
    for (const model of ['stories260K', 'synthetic-100m', 'llama3-8b-l1']) {
      const cells = ACCEPTANCE_PRESET.filter((c) => c.model === model);
      expect(cells.map((c) => c.profile).sort()).toEqual([...DEFAULT_BENCH_PROFILES].sort());
      for (const c of cells) expect([...c.links].sort()).toEqual(['none', 'paper', 'wan']);
    }
  });

  it('names known models and profiles, and measures long prompts only on links it runs', () => {
    for (const c of ACCEPTANCE_PRESET) {
      expect(BENCH_MODELS.has(c.model)).toBe(true);
      expect(() => parseBenchProfile(c.profile)).not.toThrow();
      for (const l of c.longPromptLinks) expect(c.links).toContain(l);
      // A cell without long-prompt links carries only its short prompt.
      if (c.longPromptLinks.length === 0) expect(c.prompts).toHaveLength(1);
    }
    // The extrapolation's full 8B needs a two-depth shape and the vocabulary pair at every profile.
    for (const profile of DEFAULT_BENCH_PROFILES) {
      const models = ACCEPTANCE_PRESET.filter((c) => c.profile === profile).map((c) => c.model);
      const depths = new Map<string, Set<number>>();
      for (const name of models) {
        const m = BENCH_MODELS.get(name)!;
        if (m.shape && m.vocab === 512) depths.set(m.shape, (depths.get(m.shape) ?? new Set()).add(m.layers));
      }
      expect([...depths.values()].some((d) => d.size >= 2)).toBe(true);
      expect(models).toContain('syn-d512-l1-v32k');
      expect(models).toContain('syn-d512-l1');
    }
  });

  it('refuses --acceptance with flags that would change its cells', async () => {
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await run(['--acceptance', '--models', 'stories260K'])).toBe(2);
      expect(await run(['--acceptance', '--quick'])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });
});
