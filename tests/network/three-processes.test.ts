/**
 * The deployed system: engine, dealer and gateway as three real processes (node
 * bin/permllm.mjs <role>) on 127.0.0.1 with ephemeral ports, talking over real sockets. The
 * private greedy text must equal the plaintext text (the reference forward pass behind the same
 * HTTP API, in this process) on the real stories260K model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayServer, type GatewayServer } from '../../gateway/http/start-gateway-server.js';
import { PlaintextBackend } from '../../gateway/pipeline/plaintext-backend.js';
import { loadModel } from '../../model/load-model.js';
import { logprobOf } from '../../sampling/index.js';
import { complete } from '../helpers/openai-requests.js';
import { fixedPointGenerate, pairModel, plaintextGenerate } from '../helpers/private-vs-plaintext.js';
import { defaultModelDir, killAllRoles, startThreeParties, waitFor, type ThreeParties } from '../helpers/processes.js';

let parties: ThreeParties;
let plain: GatewayServer;

beforeAll(async () => {
  [parties, plain] = await Promise.all([
    startThreeParties(),
    PlaintextBackend.load(defaultModelDir).then((backend) => startGatewayServer({ backend, host: '127.0.0.1', port: 0, onServerError: () => undefined })),
  ]);
  await parties.waitUntilReady();
});

afterAll(async () => {
  await parties?.stop();
  await plain?.close();
  await killAllRoles();
});

describe('three processes over loopback', () => {
  it('generates the same greedy text as the plaintext model', async () => {
    const request = { prompt: 'Once upon a time', max_tokens: 24 };
    const [privately, reference] = [await complete(parties.baseURL, request), await complete(plain.baseURL, request)];
    expect(privately.text).toBe(reference.text);
    expect(privately.text.startsWith(', there was a little girl named Lily.')).toBe(true);
    expect(privately.completionTokens).toBe(24);
  });

  it('ring64 over the network == the in-process fixed-point oracle: same plan, tokens and log-probabilities', async () => {
    const model = await loadModel(defaultModelDir);
    const oracleParties = await pairModel(model); // ring64: calibrates the plan the same way the engine does
    const card = (await (await fetch(`${parties.engine.url}/v1/model-card`, { headers: { authorization: `Bearer ${parties.token}` } })).json()) as { fixedPoint: { plan: unknown } };
    expect(card.fixedPoint.plan).toEqual(oracleParties.fixedPoint!.plan);
    const count = 40;
    const response = await fetch(`${parties.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: count, temperature: 0, logprobs: 2 }),
    });
    expect(response.status).toBe(200);
    const json = (await response.json()) as { choices: { text: string; logprobs: { tokens: string[]; token_logprobs: number[] } }[] };
    const got = json.choices[0]!.logprobs;
    expect(got.tokens.length).toBeGreaterThanOrEqual(20);
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const oracle = await fixedPointGenerate(oracleParties, prompt, got.tokens.length);
    const plain = await plaintextGenerate(model, prompt, got.tokens.length);
    expect(got.tokens).toEqual(oracle.tokens.map((id) => model.tokenizer.tokenText(id)));
    const logprobAt = (logits: Float64Array, id: number) => logprobOf(logits, id);
    let worstOracle = 0;
    let worstFloat = 0;
    got.token_logprobs.forEach((lp, i) => {
      worstOracle = Math.max(worstOracle, Math.abs(lp - logprobAt(oracle.logits[i]!, oracle.tokens[i]!)));
      worstFloat = Math.max(worstFloat, Math.abs(lp - logprobAt(plain.logits[i]!, oracle.tokens[i]!)));
    });
    console.log(`ring64 networked vs fixed-point oracle: ${got.tokens.length} tokens equal; max |Δ log-probability| ${worstOracle.toExponential(2)} (vs float plaintext ${worstFloat.toExponential(2)})`);
    // The logits are the oracle's bit for bit; the log-sum-exp runs over the user's permuted
    // order, so only its rounding differs (a few ulps). The float plaintext is ~1e-3 away: the
    // bound tells the two apart.
    expect(worstOracle).toBeLessThan(1e-12);
    expect(worstFloat).toBeGreaterThan(1e-9);
  }, 120_000);

  it('runs concurrent sessions independently, each equal to its plaintext text', async () => {
    const prompts = ['Tom had a red', 'The sun was'];
    const privately = await Promise.all(prompts.map((prompt) => complete(parties.baseURL, { prompt, max_tokens: 12 })));
    for (const [i, prompt] of prompts.entries()) {
      const reference = await complete(plain.baseURL, { prompt, max_tokens: 12 });
      expect(privately[i]!.text).toBe(reference.text);
    }
  });

  it('publishes a model card with shapes, the fixed-point plan and tokenizer but no weights, and only with the token', async () => {
    const denied = await fetch(`${parties.engine.url}/v1/model-card`);
    expect(denied.status).toBe(401);
    const response = await fetch(`${parties.engine.url}/v1/model-card`, { headers: { authorization: `Bearer ${parties.token}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.length).toBeLessThan(64 * 1024); // the model is 1 MB: no weights in here
    type Card = Record<string, unknown> & { weights: unknown[]; config: { dim: number; nLayers: number }; fixedPoint: { plan: { format: string; layers: unknown[]; ffnNormDeferred?: boolean; fusedValuesBytes?: number }; weights: Record<string, unknown>[] } };
    const card = JSON.parse(text) as Card;
    expect(card['id']).toBe('stories260K');
    expect(card.config.dim).toBe(64);
    // ring64 is the engine's default: the public plan and the ring specs, no float specs.
    expect(card['maskProfile']).toBe('ring64');
    expect(card['shareDtype']).toBe('ring64');
    expect(card.weights).toEqual([]);
    // stories260K's plan defers the FFN norm (model/fixed-point/plan-deferred-ffn-norm.ts) and fuses P·V (plan-fused-values.ts).
    expect(card.fixedPoint.plan.format).toBe('permllm-fixed-point/3');
    expect(card.fixedPoint.plan.ffnNormDeferred).toBe(true);
    expect(card.fixedPoint.plan.fusedValuesBytes).toBeGreaterThan(0);
    expect(card.fixedPoint.plan.layers).toHaveLength(card.config.nLayers);
    for (const w of card.fixedPoint.weights) expect(Object.keys(w).sort()).toEqual(['blocks', 'hasBias', 'inDim', 'name', 'outDim']);
    expect(Object.keys(card).sort()).toEqual(
      ['attentionModes', 'cardVersion', 'config', 'created', 'dtype', 'fixedPoint', 'id', 'maskProfile', 'maskedModel', 'maxFrameBytes', 'modelHash', 'pairing', 'shareDtype', 'tokenizer', 'weights'].sort(),
    );
    // The default engine allows only the paper's attention exposure.
    expect(card['attentionModes']).toEqual(['beaver']);
    // X − U is 8 bytes per parameter of Z_2^64, plus its header.
    const params = card.fixedPoint.weights.reduce((n, w) => n + (w['outDim'] as number) * (w['inDim'] as number), 0);
    const bytes = (card['maskedModel'] as { bytes: number }).bytes;
    expect(bytes - 8 * params).toBeGreaterThan(0);
    expect(bytes - 8 * params).toBeLessThan(64 * 1024);
  });

  it('counts sessions, tokens and bytes in the engine and dealer metrics', async () => {
    const operator = (url: string) => (url === parties.dealer.url ? parties.trust.operator.dealer : parties.trust.operator.engine);
    const get = async (url: string) => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operator(url)}` } })).text();
    const engine = await get(parties.engine.url);
    expect(engine).toMatch(/permllm_engine_sessions_total\{outcome="completed"\} [1-9]/);
    expect(engine).toMatch(/permllm_engine_tokens_total [1-9]/);
    expect(engine).toMatch(/permllm_engine_bytes_total\{peer="gateway",direction="received"\} [1-9]/);
    expect(engine).toMatch(/permllm_engine_flights_total [1-9]/);
    const dealer = await get(parties.dealer.url);
    expect(dealer).toMatch(/permllm_dealer_sessions_total\{outcome="completed"\} [1-9]/);
    expect(dealer).toMatch(/permllm_dealer_bytes_total\{peer="gateway",direction="sent"\} [1-9]/);
  });

  it('a client that disconnects mid-stream ends the session on all three processes', async () => {
    const metric = async (url: string, pattern: RegExp) => {
      const operator = url === parties.dealer.url ? parties.trust.operator.dealer : parties.trust.operator.engine;
      const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operator}` } })).text();
      return Number(pattern.exec(text)?.[1] ?? 0);
    };
    const cancelledBefore = await metric(parties.engine.url, /permllm_engine_sessions_total\{outcome="cancelled"\} (\d+)/);
    const controller = new AbortController();
    const response = await fetch(`${parties.baseURL}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 300, temperature: 0, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let received = '';
    while (!received.includes('"text":"')) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await waitFor('the engine to record a cancelled session', async () =>
      (await metric(parties.engine.url, /permllm_engine_sessions_total\{outcome="cancelled"\} (\d+)/)) > cancelledBefore ? true : undefined,
    );
    await waitFor('no session left on the engine and the dealer', async () => {
      const engine = await metric(parties.engine.url, /permllm_engine_sessions_active (\d+)/);
      const dealer = await metric(parties.dealer.url, /permllm_dealer_sessions_active (\d+)/);
      return engine === 0 && dealer === 0 ? true : undefined;
    });
    expect(await metric(parties.dealer.url, /permllm_dealer_sessions_total\{outcome="cancelled"\} (\d+)/)).toBeGreaterThanOrEqual(1);
  });

  it('downloads the masked model once; a restarted gateway uses its cache', async () => {
    expect(parties.gateway.stderr()).toContain('downloading the masked model');
    expect(parties.gateway.stderr()).toContain('masked model verified');
    const gateway = await parties.restart('gateway');
    await parties.waitUntilReady();
    expect(gateway.stderr()).toContain('using the cached masked model');
    expect(gateway.stderr()).not.toContain('downloading the masked model');
    const again = await complete(parties.baseURL, { prompt: 'Once upon a time', max_tokens: 6 });
    expect(again.text).toBe((await complete(plain.baseURL, { prompt: 'Once upon a time', max_tokens: 6 })).text);
    // The engine's sessions all ended as completed: none left running.
    await waitFor('no active engine sessions', async () => {
      const metrics = await (await fetch(`${parties.engine.url}/metrics`, { headers: { authorization: `Bearer ${parties.trust.operator.engine}` } })).text();
      return /permllm_engine_sessions_active 0\b/.test(metrics) ? true : undefined;
    });
  });
});
