/**
 * Issue 12: the gateway's MulW products f(X − U, V) leave the online step. On stories260K (in
 * process, the gateway–engine link at the paper's 10 ms RTT so that the gateway waits as it
 * would on a real link), each decode pass's products are made while the gateway waits during
 * the pass before (protocol/pool/products-ahead.ts):
 * - ring64: every MulW of every pass after the prefill takes its product from the pool (the hit
 *   counter), and the private logits equal the fixed-point oracle's bit for bit;
 * - a prompt longer than one prefill chunk: the prefill is not a template, the first decode
 *   pass makes its products online and the later ones hit;
 * - permllm-f64: the same hits, text == float plaintext;
 * - with the pool off nothing is made ahead (the comparison), same tokens;
 * - cancelling mid-session leaves nothing in the pool and nothing being made.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { emulateLink } from '../../bench/emulated-link.js';
import { LINK_SETTINGS } from '../../bench/link-settings.js';
import { runDealerSession } from '../../dealer/dealer-session.js';
import { runEngineSession } from '../../engine/private/engine-session.js';
import { privateGenerate, type PrivateSessionStats } from '../../gateway/private/private-generation.js';
import type { InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { PERMLLM_PROFILE } from '../../protocol/masks/mask-profile.js';
import { ProductsAhead } from '../../protocol/pool/products-ahead.js';
import { inProcessLinkPair } from '../../protocol/transport/in-process-link.js';
import { LOGITS_RELATIVE_BOUND } from '../helpers/greedy-equality.js';
import { fixedPointGenerate, GREEDY, pairModel, plaintextGenerate, sortedLogitsError, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

const TOKENS = 5;

interface Run {
  tokens: number[];
  logits: Float64Array[];
  stats: PrivateSessionStats;
}

/** One session, the gateway–engine link at 10 ms RTT / 1 Gbps; `onToken` may abort. */
async function run(parties: InProcessParties, prompt: readonly number[], options: { productsAhead?: boolean | ProductsAhead; signal?: AbortSignal; onToken?: (n: number) => void } = {}): Promise<Run> {
  const [g, e] = inProcessLinkPair();
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(256);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(256);
  const engine = runEngineSession({ gateway: emulateLink(e, LINK_SETTINGS.paper), dealer: engineToDealer }, parties.engine, parties.trust.engine).catch((x: unknown) => x);
  const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer).catch((x: unknown) => x);
  const logits: Float64Array[] = [];
  const tokens: number[] = [];
  let stats: PrivateSessionStats | undefined;
  try {
    const events = privateGenerate({ engine: emulateLink(g, LINK_SETTINGS.paper), dealer: gatewayToDealer }, parties.gateway, {
      promptTokens: prompt,
      maxTokens: TOKENS,
      sampling: GREEDY,
      adjustments: {},
      stopIds: new Set(),
      onPermutedLogits: (v) => logits.push(Float64Array.from(v)),
      ...(options.productsAhead === undefined ? {} : { productsAhead: options.productsAhead }),
      ...(options.signal ? { signal: options.signal } : {}),
    }, parties.trust.gateway);
    for await (const event of events) {
      if (event.type === 'token') {
        tokens.push(event.id);
        options.onToken?.(tokens.length);
      } else if (event.type === 'stats') stats = event.stats;
    }
  } finally {
    await Promise.all([engine, dealer]);
  }
  if (!stats) throw new Error('no stats');
  return { tokens, logits, stats };
}

/** MulW calls per pass: the embedding, four per layer (qkv, o, gate|up, down), the LM head. */
const callsPerPass = (m: ModelDescription) => 2 + 4 * m.config.nLayers;

/** The pool's bound at one row: every MulW's V and product, 8 bytes a word. */
function boundBytes(m: ModelDescription): number {
  const c = m.config;
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const perLayer = c.dim + (q + 2 * kv) + q + c.dim + c.dim + 2 * c.hiddenDim + c.hiddenDim + c.dim;
  return 8 * (2 * (c.vocabSize + c.dim) + c.nLayers * perLayer);
}

describe('MulW products made ahead (stories260K, 10 ms RTT)', () => {
  let model: ModelDescription;
  let ring: InProcessParties;
  let prompt: number[];
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    ring = await pairModel(model);
    prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
  });

  it('ring64: every product after the prefill pass comes from the pool, logits == oracle bit for bit', async () => {
    const priv = await run(ring, prompt);
    const oracle = await fixedPointGenerate(ring, prompt, TOKENS);
    const s = priv.stats.productsAhead!;
    console.log(`ring64 pool on: ${JSON.stringify(s)} (bound ${boundBytes(model)} bytes)`);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    const C = callsPerPass(model);
    expect(s.misses).toBe(C); // the prefill pass: nothing predicted for it
    expect(s.hits).toBe(C * (TOKENS - 1));
    expect(s.mismatches).toBe(0);
    expect(s.peakBytes).toBeGreaterThan(0);
    expect(s.peakBytes).toBeLessThanOrEqual(boundBytes(model));
  });

  it('ring64 with the pool off: nothing made ahead, same tokens', async () => {
    const priv = await run(ring, prompt, { productsAhead: false });
    expect(priv.stats.productsAhead).toBeUndefined();
    expect(priv.tokens).toEqual((await fixedPointGenerate(ring, prompt, TOKENS)).tokens);
  });

  it('a chunked prefill is no template: the first decode pass misses, the later ones hit', async () => {
    const long = model.tokenizer.encode('Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine with her friends every day.', { addBos: true });
    expect(long.length).toBeGreaterThan(32);
    const priv = await run(ring, long);
    const oracle = await fixedPointGenerate(ring, long, TOKENS);
    expect(priv.tokens).toEqual(oracle.tokens);
    expect(sortedLogitsMismatches(priv.logits, oracle.logits)).toBe(0);
    const C = callsPerPass(model);
    const s = priv.stats.productsAhead!;
    expect(s.hits).toBe(C * (TOKENS - 2));
    expect(s.mismatches).toBe(0);
  });

  it('permllm-f64: the same products from the pool, text == float plaintext', async () => {
    const f64 = await pairModel(model, PERMLLM_PROFILE);
    const priv = await run(f64, prompt);
    const plain = await plaintextGenerate(model, prompt, TOKENS);
    const s = priv.stats.productsAhead!;
    console.log(`permllm-f64 pool on: ${JSON.stringify(s)}`);
    expect(priv.tokens).toEqual(plain.tokens);
    expect(sortedLogitsError(priv.logits, plain.logits)).toBeLessThan(LOGITS_RELATIVE_BOUND);
    expect(s.hits).toBe(s.misses * (TOKENS - 1));
    expect(s.hits).toBeGreaterThan(0);
    expect(s.mismatches).toBe(0);
  });

  it('cancelled mid-session: nothing left in the pool, nothing being made', async () => {
    const pool = new ProductsAhead();
    const controller = new AbortController();
    let pendingAtAbort = -1;
    await expect(
      run(ring, prompt, {
        productsAhead: pool,
        signal: controller.signal,
        onToken: (n) => {
          if (n !== 2) return;
          pendingAtAbort = pool.pending;
          controller.abort();
        },
      }),
    ).rejects.toThrow();
    await pool.settled();
    expect(pendingAtAbort).toBeGreaterThan(0); // the next pass's products were there when it was cancelled
    expect(pool.pending).toBe(0);
    expect(pool.heldBytes).toBe(0);
    expect(pool.inFlight).toBe(0);
    expect(pool.stats.hits).toBeGreaterThan(0);
  });
});
