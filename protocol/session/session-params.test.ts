import { describe, expect, it } from 'vitest';
import { decodeSessionParams, encodeSessionParams, type SessionParams } from './session-params.js';

const base: SessionParams = { sessionId: 'a'.repeat(32), promptLength: 12, maxNewTokens: 4, profile: 'ring64', lookupsPerToken: 1, optimized: true };
const roundTrip = (p: SessionParams) => decodeSessionParams(encodeSessionParams(p), { maxContext: 512 });

describe('session params: conversation reuse only where the parties keep Beaver K/V memories', () => {
  it('keep and resume pass in a beaver generation session', () => {
    expect(roundTrip({ ...base, keep: true, resume: { sessionId: 'b'.repeat(32), length: 8 } })).toMatchObject({ keep: true, resume: { length: 8 } });
  });

  it('single-view keeps its cache at the user, embeddings keep nothing: both refuse keep and resume', () => {
    expect(() => roundTrip({ ...base, attention: 'single-view', keep: true })).toThrow(/conversation reuse/);
    expect(() => roundTrip({ ...base, attention: 'single-view', resume: { sessionId: 'b'.repeat(32), length: 8 } })).toThrow(/conversation reuse/);
    expect(() => roundTrip({ ...base, kind: 'embed', maxNewTokens: 1, keep: true })).toThrow(/conversation reuse/);
    expect(roundTrip({ ...base, attention: 'single-view' }).attention).toBe('single-view');
  });
});
