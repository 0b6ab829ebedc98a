/**
 * The dealer killed (kill -9) under a running session, with real processes: the gateway's
 * caller gets an error naming the dealer, requests fail with a clear 503 while it is away and
 * readiness says why; once it is back on the same port the engine hands it the pairing again
 * (the dealer keeps none on disk) and requests work and are correct.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complete, streamCompletion } from '../helpers/openai-requests.js';
import { killAllRoles, startThreeParties, waitForReadiness, type ThreeParties } from '../helpers/processes.js';

let parties: ThreeParties;
const PROMPT = 'Once upon a time';
let reference: string;

beforeAll(async () => {
  parties = await startThreeParties();
  await parties.waitUntilReady();
  reference = (await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text;
});

afterAll(async () => {
  await parties?.stop();
  await killAllRoles();
});

describe('dealer failures', () => {
  it('dealer killed mid-generation: clear errors, readiness says why, it recovers when the dealer is back', async () => {
    const result = await streamCompletion(parties.baseURL, { prompt: PROMPT, max_tokens: 300 }, async (_text, index) => {
      if (index === 1) await parties.dealer.kill('SIGKILL');
    });
    expect(result.chunks).toBeGreaterThanOrEqual(2);
    expect(result.error).toMatch(/dealer/);
    await waitForReadiness(parties.gateway.url, /dealer unreachable/);

    const refused = await fetch(`${parties.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt: PROMPT, max_tokens: 4 }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/dealer unreachable/);
    expect(parties.engine.stderr()).toMatch(/ended \(peer_ended\)/);

    await parties.restart('dealer');
    await parties.waitUntilReady();
    expect(parties.engine.stderr()).toContain('ready again: the dealer holds the pairing');
    expect((await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text).toBe(reference);
  });
});
