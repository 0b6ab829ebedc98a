/**
 * The arithmetic of the acceptance table's counted and modelled cells (bench/cell-model.ts,
 * bench/modelled-cells.ts): the chunk identity against a chunk cost of the general quadratic
 * form and against stored real sessions (stories260K, bench/results/issue12-one-run/modelled/counts),
 * the fused-P·V regimes at the plan's rule, the decode identity, and the link model.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchResultsSchema, exactCountsSchema, type BenchResults, type ExactCounts } from '../../bench/bench-results.js';
import { extrapolate } from '../../bench/extrapolation.js';
import { countChecks, filledRows } from '../../bench/modelled-cells.js';
import { decodeCount, extendByChunks, firstChunkOfLastRegime, fusedAt, modelledMs, prefillCount } from '../../bench/cell-model.js';
import { LINK_SETTINGS } from '../../bench/link-settings.js';
import { DEFAULT_FUSED_VALUES_BYTES } from '../../model/fixed-point/plan-fused-values.js';

const COUNTS = 'bench/results/issue12-one-run/modelled/counts';
const stored = (name: string): ExactCounts => exactCountsSchema.parse(JSON.parse(readFileSync(`${COUNTS}/${name}.json`, 'utf8')));

describe('extendByChunks', () => {
  // A prompt of 32·M tokens: M chunks of r = 32 rows from s = 32c, each of cost a + b·r + q·r² + d·r·s (+ e·s), plus a fixed F.
  const chunk = (r: number, s: number) => 1000 + 7 * r + 3 * r * r + 5 * r * s + 11 * s;
  const total = (M: number) => 4242 + Array.from({ length: M }, (_, c) => chunk(32, 32 * c)).reduce((a, b) => a + b, 0);

  it('is exact for every chunk cost quadratic in (rows, start), from any base', () => {
    const at = (n: number) => (n % 32 === 0 ? total(n / 32) : undefined);
    for (const m0 of [1, 2, 5]) for (const M of [m0, m0 + 1, m0 + 2, 16, 40]) expect(extendByChunks(at, m0, M)).toBe(total(M));
  });

  it('reads only the three base prompts and refuses a missing one', () => {
    const seen: number[] = [];
    extendByChunks((n) => (seen.push(n), total(n / 32)), 2, 16);
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual([64, 96, 128]);
    expect(() => extendByChunks((n) => (n === 96 ? undefined : total(n / 32)), 2, 16)).toThrow(/96 tokens/);
  });
});

describe('fused-P·V regimes (the rule of plan-fused-values.ts)', () => {
  it('fuses an 8B-layer decode step exactly while keys ≤ 32', () => {
    expect(fusedAt(DEFAULT_FUSED_VALUES_BYTES, 128, 32 * 32)).toBe(true);
    expect(fusedAt(DEFAULT_FUSED_VALUES_BYTES, 128, 32 * 33)).toBe(false);
    expect(fusedAt(null, 128, 1)).toBe(false);
  });

  it('puts stories260K\'s prefill chunks from the third on in the unfused regime', () => {
    const c = { fusedValuesBytes: DEFAULT_FUSED_VALUES_BYTES, config: { nLayers: 5, nHeads: 8, headDim: 8, vocabSize: 512 } };
    expect(firstChunkOfLastRegime(c, 480)).toBe(2);
    expect(firstChunkOfLastRegime(c, 64)).toBe(0);
    expect(firstChunkOfLastRegime({ ...c, fusedValuesBytes: null }, 480)).toBe(0);
  });
});

describe('prefillCount on stored real sessions (stories260K)', () => {
  for (const [name, bound] of [['stories260K-ring64', DEFAULT_FUSED_VALUES_BYTES], ['stories260K-ring64-single-view', null], ['stories260K-permllm-f64', null]] as const) {
    it(`${name}: the 160- and 480-token sessions follow from the shorter ones to the byte and the flight`, () => {
      const counts = stored(name);
      for (const n of [160, 480]) {
        const direct = counts.prefill.find((p) => p.promptTokens === n)!;
        const x = prefillCount({ ...counts, prefill: counts.prefill.filter((p) => p.promptTokens !== n) }, n, bound)!;
        expect(x).toBeDefined();
        expect([x.bytes, x.flights]).toEqual([direct.bytes, direct.flights]);
      }
    });
  }

  it('starts the ring64 identity inside the unfused regime (64, 96, 128), not from 32', () => {
    const counts = stored('stories260K-ring64');
    const x = prefillCount({ ...counts, prefill: counts.prefill.filter((p) => p.promptTokens !== 480) }, 480, DEFAULT_FUSED_VALUES_BYTES)!;
    expect(x.fromPrompts).toEqual([64, 96, 128]);
    // Reading across the regime change (32, 64, 96) would be wrong: the identity must not be fed it.
    const across = extendByChunks((n) => counts.prefill.find((p) => p.promptTokens === n)?.bytes, 1, 15);
    expect(across).not.toBe(counts.prefill.find((p) => p.promptTokens === 480)!.bytes);
  });
});

describe('decodeCount', () => {
  const counts: ExactCounts = {
    model: 'm',
    profile: 'ring64',
    fusedValuesBytes: null,
    config: { nLayers: 1, nHeads: 32, headDim: 128, vocabSize: 512 },
    prefill: [],
    decode: { promptTokens: 32, flightsPerToken: 18, flightsPerLayer: 0, steps: [33, 34, 35].map((k, i) => ({ keys: k, bytes: 5000 + 96 * k + (i < 2 ? 700 : 0), tokenQueryBytes: i < 2 ? 700 : 0 })) },
  };

  it('is affine in keys with exactly one token query per token', () => {
    const x = decodeCount(counts, 512, 700)!;
    expect(x.bytes).toBe(5000 + 96 * 512 + 700);
    expect(x.fromKeys).toEqual([33, 34]);
    expect(x.flightsPerToken).toBe(18);
  });

  it('refuses steps of the other fused-P·V regime', () => {
    expect(decodeCount(counts, 512, 700, (k) => k <= 34)).toBeUndefined(); // one step left in the target's regime
    expect(decodeCount(counts, 512, 700, (k) => k <= 33)!.fromKeys).toEqual([34, 35]);
  });
});

describe('modelledMs', () => {
  it('adds flights × one-way delay and bytes / bandwidth to the compute', () => {
    // 10 ms RTT / 1 Gbps: 100 flights × 5 ms + 1.25 MB × 8 / 1e9 s = 500 + 10 ms.
    expect(modelledMs(LINK_SETTINGS.paper, 42, 100, 1.25e6)).toBeCloseTo(552, 9);
    expect(modelledMs(LINK_SETTINGS.wan, 0, 10, 12.5e6)).toBeCloseTo(200 + 1000, 9);
    expect(modelledMs(LINK_SETTINGS.none, 42, 100, 1e9)).toBe(42);
  });
});

describe('filledRows on the stored one run (bench/results/issue12-one-run)', () => {
  const run = benchResultsSchema.omit({ extrapolation: true, findings: true }).parse(JSON.parse(readFileSync('bench/results/issue12-one-run/modelled/bench.json', 'utf8')));
  const r: BenchResults = { ...run, extrapolation: { method: '', perLayer: [], fullDepth: [], vocabularyCost: null }, findings: [] };
  r.extrapolation = extrapolate(r.models.filter((m) => m.profile === r.options.profiles[0]), ['none', 'paper', 'wan'], r.tokenLookup);
  const counts = run.exactCounts ?? [];
  const rows = filledRows(r, counts, ['stories260K', 'synthetic-100m', 'llama3-8b-l1']);

  it('has a value in every cell of the three acceptance models, at every profile', () => {
    expect(rows).toHaveLength(9);
    for (const row of rows) {
      expect(row.flightsPerLayer && row.flightsPerToken && row.bytesPerToken && row.longPrefill && row.privateOverPlaintext, `${row.model} ${row.profile}`).toBeTruthy();
      for (const link of ['none', 'paper', 'wan'] as const) {
        const x = row.perLink[link]!;
        expect([x.msPerToken, x.ttftShortMs, x.ttftLongMs].every((c) => c !== null), `${row.model} ${row.profile} ${link}`).toBe(true);
      }
    }
  });

  it('marks as measured exactly what the run measured, and models the rest from exact counts', () => {
    for (const row of rows) {
      const m = r.models.find((x) => x.name === row.model && x.profile === row.profile)!;
      for (const link of ['none', 'paper', 'wan'] as const) {
        const measuredLong = m.private.find((p) => p.link === link)?.prefill.some((p) => p.promptTokens === row.longPrefill!.tokens) ?? false;
        expect(row.perLink[link]!.ttftLongMs!.mark).toBe(measuredLong ? 'measured' : 'modelled');
        expect(row.perLink[link]!.msPerToken!.mark).toBe('measured');
      }
      const anyLong = m.private.some((p) => p.prefill.some((x) => x.promptTokens === row.longPrefill!.tokens));
      expect(row.longPrefill!.bytes.mark).toBe(anyLong ? 'measured' : 'counted');
    }
    // The 8B layer's permllm-f64 512-token prefill: counted, and its modelled first token on the paper link = compute + 198 × 5 ms + bytes / 1 Gbps.
    const f64 = rows.find((x) => x.model === 'llama3-8b-l1' && x.profile === 'permllm-f64')!;
    const none = f64.perLink.none!.ttftLongMs!.value;
    expect(f64.perLink.paper!.ttftLongMs!.value).toBeCloseTo(modelledMs(LINK_SETTINGS.paper, none, f64.longPrefill!.flights.value, f64.longPrefill!.bytes.value), 6);
  });

  it('checks every counted identity to zero against what was measured directly', () => {
    const checks = countChecks(r, counts);
    expect(checks.length).toBeGreaterThan(10);
    for (const c of checks) expect(c.counted - c.direct, `${c.model} ${c.profile} ${c.what}`).toBe(0);
  });
});
