/**
 * Conversation reuse through the official openai client against the networked private system:
 * a real dealer and a real engine as child processes (stories260K, ring64), the gateway's
 * RemoteBackend in this process with conversation reuse on. Turn 2 of a chat resends the history;
 * its prefill (measured by the gateway's traffic meter) covers only the new tokens, and its text
 * equals a fresh session's. When the engine no longer holds the state (it restarted), the
 * gateway falls back to a fresh session and the answer is the same.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalTrust, type LocalTrust } from '../../cli/local-trust.js';
import type { PrivateSessionStats } from '../../gateway/private/private-generation.js';
import { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { startTestGateway, type TestGateway } from '../api/helpers/test-gateway.js';
import { defaultModelDir, killAllRoles, startRole, waitForReadiness, type RoleProcess } from '../helpers/processes.js';
import { gatewayTrustOptions } from '../helpers/trust-options.js';
import { causalShareFactor } from '../helpers/causal-prefill-share.js';

let dir: string;
let trust: LocalTrust;
let dealer: RoleProcess;
let engine: RoleProcess;
let backend: RemoteBackend;
let gateway: TestGateway;
const sessions: PrivateSessionStats[] = [];

const logs: string[] = [];

async function startEngine(port = 0): Promise<RoleProcess> {
  const proc = await startRole('engine', ['--port', String(port), '--dealer', dealer.url, '--model', defaultModelDir, '--probe-interval-ms', '300'], { env: trust.env.engine });
  await waitForReadiness(proc.url, true, trust.userCredential);
  return proc;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-reuse-'));
  trust = await prepareLocalTrust(path.join(dir, 'state'));
  dealer = await startRole('dealer', ['--port', '0'], { env: trust.env.dealer });
  engine = await startEngine();
  backend = await RemoteBackend.connect({
    engineUrl: engine.url,
    dealerUrl: dealer.url,
    cacheDir: path.join(dir, 'cache'),
    ...gatewayTrustOptions(trust),
    probeIntervalMs: 500,
    conversationReuse: true,
    onSessionStats: (s) => sessions.push(s),
    log: (line) => logs.push(line),
    progress: () => ({ update: () => undefined, finish: () => undefined }),
  });
  gateway = await startTestGateway({ backend });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await killAllRoles();
});

/** One completion through the openai client; the gateway's figures of the session it ran. */
const complete = async (prompt: string, maxTokens: number) => {
  const before = sessions.length;
  const completion = await gateway.openai.completions.create({ model: 'stories260K', prompt, max_tokens: maxTokens, temperature: 0 });
  expect(sessions.length).toBe(before + 1);
  return { text: completion.choices[0]!.text, stats: sessions[sessions.length - 1]! };
};

describe('conversation reuse over the network', () => {
  it('turn 2 prefills only its new tokens and answers as a fresh session does', async () => {
    const prompt1 = 'Once upon a time there was a little girl.';
    const turn1 = await complete(prompt1, 16);
    expect(turn1.stats.reusedTokens).toBe(0);
    expect(backend.conversations!.size).toBe(1);
    // The client resends the history (prompt and answer) with its next line.
    const prompt2 = `${prompt1}${turn1.text} One day she`;
    const turn2 = await complete(prompt2, 8);
    const promptTokens = turn2.stats.promptTokens;
    // Everything fed before but a few positions where the answer's text re-tokenises differently
    // (the answer's last token was never fed).
    expect(turn2.stats.reusedTokens).toBeGreaterThan(turn1.stats.promptTokens + turn1.stats.completionTokens - 6);
    expect(turn2.stats.prefill.rows).toBe(promptTokens - turn2.stats.reusedTokens);
    // The same request as a fresh session (nothing kept at the gateway any more).
    backend.conversations!.clear();
    const fresh = await complete(prompt2, 8);
    expect(fresh.stats.reusedTokens).toBe(0);
    expect(fresh.stats.prefill.rows).toBe(promptTokens);
    expect(turn2.text).toBe(fresh.text);
    // Prefill bytes are per-row messages plus the causal triangle's attention entries: reuse pays
    // the new rows' share of the fresh prefill (causal-prefill-share.ts, plus per-pass constants),
    // never the history's.
    const expected = (fresh.stats.prefill.bytesToEngine * turn2.stats.prefill.rows) / promptTokens;
    const factor = causalShareFactor(turn2.stats.prefill.rows, promptTokens);
    console.log(
      `networked reuse: turn 2 of ${promptTokens} tokens reused ${turn2.stats.reusedTokens}; prefill bytes to the engine ${turn2.stats.prefill.bytesToEngine} (${turn2.stats.prefill.rows} rows) vs ${fresh.stats.prefill.bytesToEngine} fresh; from the engine ${turn2.stats.prefill.bytesFromEngine} vs ${fresh.stats.prefill.bytesFromEngine}; time to first token ${turn2.stats.prefillMs.toFixed(0)} vs ${fresh.stats.prefillMs.toFixed(0)} ms`,
    );
    expect(turn2.stats.prefill.bytesToEngine).toBeGreaterThan(0.9 * expected);
    expect(turn2.stats.prefill.bytesToEngine).toBeLessThan(1.15 * factor * expected);
    expect(turn2.stats.prefill.bytesFromEngine).toBeLessThan((1.15 * factor * fresh.stats.prefill.bytesFromEngine * turn2.stats.prefill.rows) / promptTokens);
  }, 180_000);

  it('falls back to a fresh session when the engine no longer holds the state', async () => {
    const prompt1 = 'Tom had a red ball.';
    const turn1 = await complete(prompt1, 12);
    const prompt2 = `${prompt1}${turn1.text} Then he`;
    // A restarted engine (same identity and pairing from its state folder) has forgotten every state.
    const port = Number(new URL(engine.url).port);
    await engine.stop();
    engine = await startEngine(port);
    await waitForReadiness(gateway.url, true);
    const refusedBefore = logs.filter((l) => l.includes('conversation reuse refused')).length;
    const resumed = await complete(prompt2, 8);
    expect(resumed.stats.reusedTokens).toBe(0);
    // It was tried (same pairing, so the gateway's entry matched) and the engine said no.
    expect(logs.filter((l) => l.includes('conversation reuse refused (the engine no longer holds')).length).toBe(refusedBefore + 1);
    expect(resumed.stats.prefill.rows).toBe(resumed.stats.promptTokens);
    backend.conversations!.clear();
    const fresh = await complete(prompt2, 8);
    expect(resumed.text).toBe(fresh.text);
  }, 180_000);
});
