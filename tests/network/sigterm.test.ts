/**
 * SIGTERM to a real gateway process mid-stream: after its grace period the client gets the
 * stream's error frame (`server_shutting_down`), not a cut connection, and the process exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamCompletion } from '../helpers/openai-requests.js';
import { killAllRoles, startThreeParties, type ThreeParties } from '../helpers/processes.js';

let parties: ThreeParties;
beforeAll(async () => {
  parties = await startThreeParties({ args: { gateway: ['--shutdown-grace-ms', '300'] } });
  await parties.waitUntilReady();
});
afterAll(async () => {
  await parties?.stop();
  await killAllRoles();
});

describe('SIGTERM', () => {
  it('ends an in-flight stream with an error frame after the grace period, then exits 0', async () => {
    let signalled = false;
    const result = await streamCompletion(parties.baseURL, { prompt: 'Once upon a time', max_tokens: 400 }, (_text, index) => {
      if (index === 1 && !signalled) {
        signalled = true;
        parties.gateway.child.kill('SIGTERM');
      }
    });
    expect(signalled).toBe(true);
    expect(result.chunks).toBeGreaterThanOrEqual(2);
    expect(result.error).toMatch(/shutting down/);
    expect(await parties.gateway.exited).toEqual({ code: 0, signal: null });
    expect(parties.gateway.stderr()).toContain('stopping (SIGTERM)');
  });
});
