/**
 * The engine failing under a running session, with real processes: killed (kill -9) and
 * frozen (SIGSTOP, caught by the links' heartbeats). In both cases the gateway's caller gets an
 * error on its stream (not a hang), /readyz says why while the engine is away, and once the
 * engine is back (same port, same state folder: same pairing, no new download) the next request
 * works and is still correct. A gateway restarted while the engine is down starts from its cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complete, streamCompletion } from '../helpers/openai-requests.js';
import { killAllRoles, startThreeParties, waitForReadiness, type ThreeParties } from '../helpers/processes.js';

let parties: ThreeParties;
const PROMPT = 'Once upon a time';
let reference: string;

beforeAll(async () => {
  parties = await startThreeParties({ args: { gateway: ['--dead-peer-ms', '4000', '--heartbeat-ms', '250'] } });
  await parties.waitUntilReady();
  reference = (await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text;
});

afterAll(async () => {
  await parties?.stop();
  await killAllRoles();
});

describe('engine failures', () => {
  it('engine killed mid-generation: the stream ends with an error, readiness says why, the restarted engine serves again', async () => {
    let killedAt = 0;
    const result = await streamCompletion(parties.baseURL, { prompt: PROMPT, max_tokens: 300 }, async (_text, index) => {
      if (index === 1) {
        killedAt = performance.now();
        await parties.engine.kill('SIGKILL');
      }
    });
    console.log(`engine killed: the caller got its error ${(performance.now() - killedAt).toFixed(0)} ms later`);
    expect(result.chunks).toBeGreaterThanOrEqual(2);
    expect(result.error).toMatch(/engine/);
    const reason = await waitForReadiness(parties.gateway.url, /engine unreachable/);
    expect(reason).toContain(parties.engine.url);

    const refused = await fetch(`${parties.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt: PROMPT, max_tokens: 4 }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/engine unreachable/);

    const engine = await parties.restart('engine');
    expect(engine.stderr()).toContain('loaded pairing key');
    await parties.waitUntilReady();
    expect((await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text).toBe(reference);
    expect(parties.gateway.stderr().match(/masked model verified/g)?.length ?? 0).toBe(1);
  });

  it('a gateway restarted while the engine is down starts from its cache and serves once the engine is back', async () => {
    await parties.engine.kill('SIGKILL');
    const gateway = await parties.restart('gateway');
    expect(gateway.stderr()).toContain('starting from the cached model card and masked model');
    await waitForReadiness(gateway.url, /engine unreachable/);
    await parties.restart('engine');
    await parties.waitUntilReady();
    expect((await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text).toBe(reference);
  });

  it('engine frozen mid-generation: heartbeats end the session, and it serves again once resumed', async () => {
    let stopped = false;
    const result = await streamCompletion(parties.baseURL, { prompt: PROMPT, max_tokens: 300 }, (_text, index) => {
      if (index === 1) {
        parties.engine.child.kill('SIGSTOP');
        stopped = true;
      }
    });
    try {
      expect(stopped).toBe(true);
      expect(result.error).toMatch(/engine.*(stopped responding|dropped)/);
    } finally {
      parties.engine.child.kill('SIGCONT');
    }
    await parties.waitUntilReady();
    expect((await complete(parties.baseURL, { prompt: PROMPT, max_tokens: 8 })).text).toBe(reference);
    expect(parties.engine.running).toBe(true);
  });
});
