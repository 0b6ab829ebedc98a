/**
 * What the private mixture of experts costs against the dense model of equal active size
 * (issue 13): the same attention and shapes, one FFN of width topK · hiddenDim instead of
 * nExperts experts of hiddenDim. Both run under ring64 in one process (dealer ahead, no link
 * delay): flights per layer, bytes per decode token on each link, decode ms per token (median),
 * the engine's and the whole process's product time, and the float plaintext's ms per token.
 *
 *   npx tsx bench/moe-cost.ts [--tokens 8]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pairInProcessFor } from '../in-process/in-process-parties.js';
import { loadHuggingFaceModel } from '../model/huggingface/load-huggingface-model.js';
import type { ModelDescription } from '../model/model-description.js';
import { writeSyntheticModel, type SyntheticSpecInput } from '../model/synthetic/index.js';
import { PlaintextModel } from '../plaintext/plaintext-model.js';
import { RING64_PROFILE } from '../protocol/masks/mask-profile.js';
import { argmax } from '../sampling/index.js';
import { LINK_SETTINGS } from './link-settings.js';
import { runPrivateSession, timeParties } from './private-session.js';

const { values } = parseArgs({ options: { tokens: { type: 'string', default: '8' } } });
const TOKENS = Number(values.tokens);

type Pair = { name: string; moe: SyntheticSpecInput; dense: SyntheticSpecInput };
const base = { nLayers: 2, nHeads: 4, nKvHeads: 2, tokenizer: 'llama3-32k', tiedEmbeddings: false, maxSeqLen: 4096, dtype: 'f32' } as const;
const PAIRS: Pair[] = [
  { name: 'mixtral-like-tiny (dim 64, 8 experts × 96, top-2)', moe: { ...base, family: 'mixtral', dim: 64, hiddenDim: 96, nExperts: 8, expertsPerToken: 2 }, dense: { ...base, dim: 64, hiddenDim: 192 } },
  { name: 'qwen3-moe router shape (dim 64, 16 experts × 48, top-4)', moe: { ...base, family: 'mixtral', dim: 64, hiddenDim: 48, nExperts: 16, expertsPerToken: 4 }, dense: { ...base, dim: 64, hiddenDim: 192 } },
  { name: 'mixtral-like-small (dim 512, 8 experts × 1024, top-2)', moe: { ...base, family: 'mixtral', dim: 512, nHeads: 8, hiddenDim: 1024, nExperts: 8, expertsPerToken: 2 }, dense: { ...base, dim: 512, nHeads: 8, hiddenDim: 2048 } },
];

async function plaintextMsPerToken(model: ModelDescription, prompt: number[]): Promise<number> {
  const seq = new PlaintextModel(model).newSequence();
  let logits = await seq.prefill(prompt);
  const times: number[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const t = performance.now();
    logits = await seq.decode(argmax(logits));
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function measure(dir: string, spec: SyntheticSpecInput) {
  await writeSyntheticModel(dir, spec, 7);
  const model = await loadHuggingFaceModel(dir);
  const prompt = model.tokenizer.encode('Once upon a time, there was a little girl named Lily.', { addBos: true });
  const parties = timeParties(await pairInProcessFor(model, RING64_PROFILE));
  const m = await runPrivateSession(parties, { promptTokens: prompt, maxTokens: TOKENS, link: LINK_SETTINGS.none, emulation: 'wrapper', dealer: 'ahead' });
  const d = m.decode!;
  return {
    flightsPerLayer: d.flightsPerLayer,
    flightsPerToken: d.flights,
    toEngine: d.bytesToEngine,
    fromEngine: d.bytesFromEngine,
    dealerToGateway: d.dealerBytesToGateway,
    dealerToEngine: d.dealerBytesToEngine,
    msPerToken: d.msPerToken,
    engineMatmulMs: d.matmulMs.engine,
    cpuMs: d.cpuMs,
    plaintextMs: await plaintextMsPerToken(model, prompt),
  };
}

const work = await mkdtemp(path.join(tmpdir(), 'permllm-moe-cost-'));
try {
  for (const pair of PAIRS) {
    const moe = await measure(path.join(work, 'moe'), pair.moe);
    const dense = await measure(path.join(work, 'dense'), pair.dense);
    console.log(`\n${pair.name}: ring64, ${TOKENS} decode tokens, per decode token`);
    console.log('| | flights/layer | flights/token | B to engine | B from engine | dealer B to gateway | dealer B to engine | ms/token | engine products ms | process CPU ms | plaintext ms/token |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [label, r] of [['MoE', moe], ['dense, equal active size', dense]] as const) {
      console.log(`| ${label} | ${r.flightsPerLayer.toFixed(1)} | ${r.flightsPerToken.toFixed(1)} | ${r.toEngine.toFixed(0)} | ${r.fromEngine.toFixed(0)} | ${r.dealerToGateway.toFixed(0)} | ${r.dealerToEngine.toFixed(0)} | ${r.msPerToken.toFixed(1)} | ${r.engineMatmulMs.toFixed(1)} | ${r.cpuMs.toFixed(1)} | ${r.plaintextMs.toFixed(2)} |`);
    }
    await rm(path.join(work, 'moe'), { recursive: true, force: true });
    await rm(path.join(work, 'dense'), { recursive: true, force: true });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
