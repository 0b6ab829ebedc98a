/**
 * Smoke test of `permllm bench --quick` on stories260K with one link setting: the three
 * reports are written and well-formed, with ring64 (paper and single-view attention) and permllm-f64 measured in the same run. The figures are the benchmark's to print, never
 * asserted here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/bench-command.js';
import { benchResultsSchema, type BenchResults } from '../../bench/bench-results.js';

/** Checks that a document's tags nest and close (enough to catch a broken hand-written SVG). */
function assertWellFormedXml(text: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    expect(text.slice(last, m.index)).not.toMatch(/[<>]/); // no stray or malformed tags between tags
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(text.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
}

describe('permllm bench --quick (stories260K, one link)', () => {
  let out: string;
  let code: number;
  let results: BenchResults;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'permllm-bench-'));
    const stderr = process.stderr.write.bind(process.stderr);
    const stdout = process.stdout.write.bind(process.stdout);
    // Keep the test log quiet; the figures go to the files.
    process.stderr.write = (() => true) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      code = await run(['--quick', '--links', 'paper', '--out', out]);
    } finally {
      process.stderr.write = stderr;
      process.stdout.write = stdout;
    }
    results = benchResultsSchema.parse(JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')));
  });

  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('exits 0 and writes JSON that matches the results schema', () => {
    expect(code).toBe(0);
    expect(results.quick).toBe(true);
    expect(results.options.links).toEqual(['paper']);
    expect(results.models.map((m) => `${m.name}/${m.profile}`)).toEqual(['stories260K/ring64', 'stories260K/ring64:single-view', 'stories260K/permllm-f64']);
    // Flights are counted from the transport's frame depths (deterministic, unlike the times).
    // ring64's beaver schedule defers the FFN norm and fuses P·V into the softmax's flights on stories260K (8); permllm-f64 runs the paper's 12.
    expect(results.models.map((m) => m.private[0]!.decode!.flightsPerLayer)).toEqual([8, 4, 12]);
    for (const model of results.models) {
      expect(model.private).toHaveLength(1);
      expect(model.private[0]!.prefill.length).toBeGreaterThan(0);
      expect(model.private[0]!.decode).not.toBeNull();
    }
  });

  it('writes a markdown report with the decode and first-token tables', async () => {
    const md = await readFile(join(out, 'bench.md'), 'utf8');
    expect(md).toMatch(/^# permllm bench/);
    expect(md).toContain('## Decode, per token');
    expect(md).toContain('## Time to first token');
    for (const profile of ['ring64', 'ring64:single-view', 'permllm-f64']) {
      const rows = md.split('\n').filter((l) => l.startsWith(`| stories260K (${profile}) | paper |`));
      expect(rows.length).toBeGreaterThanOrEqual(2);
    }
    // Issue 12's acceptance table reads the measured flights per layer, per profile and mode.
    expect(md).toContain('## Issue 12 acceptance: per mode and profile');
    expect(md).toContain('| stories260K | ring64 | beaver | 8.0 |');
    expect(md).toContain('| stories260K | ring64 | single-view | 4.0 |');
    expect(md).toContain('| stories260K | permllm-f64 | beaver | 12.0 |');
    // Every table row has as many cells as its header.
    for (const block of md.split('\n\n')) {
      const lines = block.split('\n').filter((l) => l.startsWith('|'));
      if (lines.length === 0) continue;
      const cells = (l: string) => l.split('|').length;
      for (const l of lines) expect(cells(l)).toBe(cells(lines[0]!));
    }
  });

  it('writes a well-formed SVG chart with a private and a plaintext series', async () => {
    const svg = await readFile(join(out, 'time-per-token.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    assertWellFormedXml(svg);
    expect(svg).toContain('stories260K private ring64 (measured)');
    expect(svg).toContain('stories260K private permllm-f64 (measured)');
    expect(svg).toContain('stories260K plaintext');
  });
});
