/**
 * The gateway's products made ahead, measured where they can leave its critical path: the
 * engine and the dealer as processes of their own (`permllm engine`, `permllm dealer` over
 * loopback WebSockets), the gateway (RemoteBackend) in this process, so the gateway's waits
 * are real waits while the engine computes. Sessions alternate between the pool on and off,
 * ABBA after a warm-up (same prompt, greedy), and print ms per token (median interval), the
 * pool's hits and the tokens (which must agree). In one process (`permllm bench`) all three
 * parties share one event loop and the products cannot overlap the engine's work
 * (bench/README.md).
 *
 *   npx tsx bench/products-ahead-networked.ts [dim] [layers] [tokens] [rounds]
 * (default 1024 2 8 4: a synthetic Llama shape with the 32k tokenizer, written once to the
 * synthetic-model cache).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareLocalTrust } from '../cli/local-trust.js';
import { RemoteBackend } from '../gateway/remote/remote-backend.js';
import type { PrivateSessionStats } from '../gateway/private/private-generation.js';
import { ensureSyntheticModel } from '../model/synthetic/ensure-synthetic-model.js';
import { killAllRoles, startRole, waitForReadiness } from '../tests/helpers/processes.js';
import { gatewayTrustOptions } from '../tests/helpers/trust-options.js';

const [dim = 1024, layers = 2, tokens = 8, rounds = 4] = process.argv.slice(2).map(Number);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const folder = await ensureSyntheticModel({ name: `ahead-ab-d${dim}-l${layers}`, spec: { dim, hiddenDim: Math.round((dim * 11) / 4 / 256) * 256, nLayers: layers, nHeads: dim / 64, nKvHeads: dim / 256, tokenizer: 'llama3-32k', tiedEmbeddings: true, maxSeqLen: 512 } }, 1);
  const dir = await mkdtemp(path.join(tmpdir(), 'permllm-ahead-ab-'));
  try {
    const trust = await prepareLocalTrust(path.join(dir, 'state'));
    const dealer = await startRole('dealer', ['--port', '0'], { env: trust.env.dealer });
    const engine = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', folder], { env: trust.env.engine });
    await waitForReadiness(engine.url, true, trust.userCredential);
    let last: PrivateSessionStats | undefined;
    const connect = (productsAhead: boolean) =>
      RemoteBackend.connect({ engineUrl: engine.url, dealerUrl: dealer.url, cacheDir: path.join(dir, 'cache'), ...gatewayTrustOptions(trust), log: () => undefined, progress: () => ({ update: () => undefined, finish: () => undefined }), productsAhead, onSessionStats: (s) => (last = s) });
    const backends = { off: await connect(false), on: await connect(true) };
    const prompt = Array.from({ length: 16 }, (_, i) => 100 + 37 * i);
    console.log(`model d${dim} × ${layers} layers (32k vocabulary), ${tokens} tokens per session, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join('/')}`);
    // A warm-up session first (the engine's first session is slow), then rounds in ABBA order so
    // that a drift of the machine's load favours neither.
    const order: ('off' | 'on')[] = ['off'];
    for (let round = 0; round < rounds; round++) order.push(...(round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)));
    {
      for (const [n, mode] of order.entries()) {
        const times: number[] = [];
        const ids: number[] = [];
        const cpu0 = process.cpuUsage();
        for await (const e of backends[mode].generate({ promptTokens: prompt, maxTokens: tokens, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, signal: new AbortController().signal })) {
          if (e.type === 'token') {
            times.push(performance.now());
            ids.push(e.id);
          }
        }
        const cpu = process.cpuUsage(cpu0);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        const pa = last?.productsAhead;
        console.log(`${n === 0 ? 'warm-up ' : ''}pool ${mode.padEnd(3)}: ${median(gaps).toFixed(0)} ms/token (median of ${gaps.length}), gateway CPU ${((cpu.user + cpu.system) / 1000 / tokens).toFixed(0)} ms/token, hits ${pa ? `${pa.hits} / ${pa.hits + pa.misses} (late ${pa.lateHits}, not ready ${pa.notReady})` : 'off'}, tokens ${ids.join(' ')}`);
      }
    }
    await Promise.all(Object.values(backends).map((b) => b.close?.()));
  } finally {
    await killAllRoles();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
