import { afterEach, describe, expect, it, vi } from 'vitest';
import { rateLimitedLog, recordRefusal } from './ws-endpoint.js';

afterEach(() => vi.useRealTimers());

describe('refusal logging', () => {
  it('writes at most one line per key per interval, then says how many it left out', () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const lines: string[] = [];
    const log = rateLimitedLog((l) => lines.push(l), 10_000);
    for (let i = 0; i < 50; i++) log('401', 'refused 401');
    log('409', 'refused 409');
    expect(lines).toEqual(['refused 401', 'refused 409']);
    vi.setSystemTime(10_000);
    log('401', 'refused 401');
    expect(lines[2]).toBe('refused 401 (and 49 more like it in the last 10 s)');
  });

  it('counts every refusal, and wrong credentials as errors, however few lines it logs', () => {
    const counts = new Map<string, number>();
    const inc = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const lines: string[] = [];
    const onRefused = recordRefusal({ refused: { inc: ({ status }) => inc(`refused ${status}`) }, errors: { inc: ({ kind }) => inc(kind) } }, (l) => lines.push(l));
    for (let i = 0; i < 20; i++) onRefused({ status: 401, message: 'no credential' });
    expect(counts.get('refused 401')).toBe(20);
    expect(counts.get('unauthorized')).toBe(20);
    expect(lines).toHaveLength(1);
  });
});
