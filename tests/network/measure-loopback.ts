/**
 * Time and bytes per token, in-process vs networked over loopback (not a test; run by hand):
 *
 *   npx tsx tests/network/measure-loopback.ts [--model PATH] [--tokens N] [--runs R] [--threads T] [--profile ring64|permllm-f64]
 *
 * in-process: the three parties in this process (runInProcess, one event loop).
 * networked:  a real dealer and a real engine process (node bin/permllm.mjs ...), the gateway
 *             side in this process over WebSockets: the deployed data path (the gateway's
 *             OpenAI HTTP layer adds nothing per token).
 * Both run the same greedy session from "Once upon a time" and report privateGenerate's stats:
 * prefill, decode time per token, flights per token, protocol bytes per decoded token; plus the
 * engine's start-up time (ring64: calibration and quantisation included), the masked model's
 * download size and each party's weight bytes per parameter (from the in-process pairing, the
 * same format the processes hold).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../model/load-model.js';
import { pairInProcessFor, runInProcess } from '../../in-process/in-process-parties.js';
import { planarBytes } from '../../compute/ring-gemm.js';
import type { RoleModel } from '../../protocol/session/role-model.js';
import { privateGenerate, type PrivateGenerationEvent, type PrivateSessionStats } from '../../gateway/private/private-generation.js';
import { MaskedModelStore } from '../../gateway/remote/masked-model-store.js';
import { SessionConnector } from '../../gateway/remote/session-connector.js';
import { defaultBackend, OnnxCpuBackend } from '../../compute/onnx-backend.js';
import { MASK_PROFILES } from '../../protocol/masks/mask-profile.js';
import { roleModel } from '../../protocol/session/role-model.js';
import { CloseCode } from '../../protocol/transport/close-codes.js';
import { ControlClient } from '../../protocol/transport/control-client.js';
import { fetchPeerIdentity } from '../../protocol/transport/peer-identity.js';
import { prepareLocalTrust } from '../../cli/local-trust.js';
import { defaultModelDir, killAllRoles, startRole, waitForReadiness } from '../helpers/processes.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, tokens: { type: 'string' }, runs: { type: 'string' }, prompt: { type: 'string' }, threads: { type: 'string' }, profile: { type: 'string' } } });
const profile = MASK_PROFILES[values.profile ?? 'ring64'];
if (!profile) throw new Error(`unknown profile ${values.profile}`);
const modelPath = values.model ?? defaultModelDir;
const tokens = Number(values.tokens ?? 32);
const runs = Number(values.runs ?? 3);
const promptText = values.prompt ?? 'Once upon a time';
const threadFlags = values.threads ? ['--threads', values.threads] : [];
const gatewayBackend = values.threads ? new OnnxCpuBackend(Number(values.threads)) : defaultBackend();

const sampling = { temperature: 0, topP: 1, topK: 0, minP: 0 };
type Row = { mode: string; stats: PrivateSessionStats; wallMs: number; text: number[] };

function summary(rows: Row[]) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = rows.map((r) => r.stats);
  const decodeSteps = (st: PrivateSessionStats) => Math.max(1, st.completionTokens - 1);
  return {
    mode: rows[0]!.mode,
    runs: rows.length,
    prefillMs: Math.round(median(s.map((x) => x.prefillMs))),
    msPerToken: Math.round(median(s.map((x) => x.decodeMs / decodeSteps(x)))),
    flightsPerToken: s[0]!.flightsPerToken,
    bytesPerToken: {
      toEngine: Math.round(s[0]!.perToken.bytesToEngine),
      fromEngine: Math.round(s[0]!.perToken.bytesFromEngine),
      dealerToGateway: Math.round(s[0]!.perToken.dealerBytesToGateway),
    },
    sessionBytes: { toEngine: s[0]!.bytesToEngine, fromEngine: s[0]!.bytesFromEngine, dealerToGateway: s[0]!.dealerBytesToGateway },
  };
}

async function collect(events: AsyncIterable<PrivateGenerationEvent>): Promise<{ stats: PrivateSessionStats; ids: number[] }> {
  const ids: number[] = [];
  let stats: PrivateSessionStats | undefined;
  for await (const e of events) {
    if (e.type === 'token') ids.push(e.id);
    if (e.type === 'stats') stats = e.stats;
  }
  return { stats: stats!, ids };
}

const model = await loadModel(modelPath);
const prompt = model.tokenizer.encode(promptText, { addBos: true });
console.error(`model ${model.id} (${modelPath}), prompt ${prompt.length} tokens, ${tokens} new tokens, ${runs} runs each`);

const inProcess: Row[] = [];
const networked: Row[] = [];
const parties = await pairInProcessFor(model, profile, gatewayBackend);
const weightBytes = (m: RoleModel) => {
  let bytes = 0;
  for (const w of m.weights.values()) bytes += w.data.byteLength + (w.bias?.byteLength ?? 0);
  for (const w of m.ring?.weights.values() ?? []) bytes += planarBytes(w.data) + (w.bias?.byteLength ?? 0);
  return bytes;
};
const parameterCount = (m: RoleModel) => {
  let n = 0;
  for (const w of m.weights.values()) n += w.spec.outDim * w.spec.inDim;
  for (const w of m.ring?.weights.values() ?? []) n += w.spec.outDim * w.spec.inDim;
  return n;
};
const params = parameterCount(parties.engine);
const bytesPerParameter = { engine: weightBytes(parties.engine) / params, dealer: weightBytes(parties.dealer) / params, gateway: weightBytes(parties.gateway) / params };
let engineStartMs = 0;
let maskedModelBytes = 0;
const dir = await mkdtemp(path.join(tmpdir(), 'permllm-measure-'));
try {
  const trust = await prepareLocalTrust(path.join(dir, 'state'));
  const dealer = await startRole('dealer', ['--port', '0', ...threadFlags], { env: trust.env.dealer });
  const engineStarted = performance.now();
  const engine = await startRole('engine', ['--port', '0', '--dealer', dealer.url, '--model', modelPath, '--profile', profile.name, ...threadFlags], { env: trust.env.engine });
  await waitForReadiness(engine.url, true, trust.userCredential);
  engineStartMs = performance.now() - engineStarted;
  const client = new ControlClient(engine.url, { token: trust.userCredential });
  const store = new MaskedModelStore({ cacheDir: path.join(dir, 'cache'), engine: client, log: (l) => console.error(l) });
  const card = await store.fetchCard();
  const stored = await store.load(card);
  maskedModelBytes = card.maskedModel.bytes;
  const ring = card.fixedPoint && stored.ringWeights ? { plan: card.fixedPoint.plan, weights: stored.ringWeights } : undefined;
  const gatewayModel = roleModel(card.config, stored.weights, MASK_PROFILES[card.maskProfile]!, gatewayBackend, ring);
  const connector = new SessionConnector({ engineUrl: engine.url, dealerUrl: dealer.url, credential: trust.userCredential });
  const sessionTrust = { pairingId: card.pairing.id, engine: await fetchPeerIdentity(client), dealer: await fetchPeerIdentity(new ControlClient(dealer.url)) };
  // Alternate the two modes so that both see the same (shared, noisy) machine.
  for (let r = 0; r < runs; r++) {
    let began = performance.now();
    const run = runInProcess(parties, { promptTokens: prompt, maxTokens: tokens, sampling, adjustments: {}, stopIds: new Set() });
    const local = await collect(run.events);
    await run.done;
    inProcess.push({ mode: 'in-process', stats: local.stats, wallMs: performance.now() - began, text: local.ids });

    began = performance.now();
    const session = connector.open(card.pairing.id, card.maxFrameBytes, new AbortController().signal);
    try {
      const remote = await collect(privateGenerate(session.links, gatewayModel, { promptTokens: prompt, maxTokens: tokens, sampling, adjustments: {}, stopIds: new Set(), signal: session.signal }, sessionTrust));
      networked.push({ mode: 'networked (3 processes, loopback)', stats: remote.stats, wallMs: performance.now() - began, text: remote.ids });
    } finally {
      session.end(CloseCode.Normal, 'done');
    }
  }
  await client.close();
} finally {
  await killAllRoles();
  await rm(dir, { recursive: true, force: true });
}

const same = JSON.stringify(inProcess[0]!.text) === JSON.stringify(networked[0]!.text);
console.log(JSON.stringify({ model: model.id, profile: profile.name, parameters: params, bytesPerParameter, maskedModelBytes, engineStartMs: Math.round(engineStartMs), promptTokens: prompt.length, newTokens: tokens, sameTokens: same, results: [summary(inProcess), summary(networked)] }, null, 2));
process.exit(0);
