/**
 * A mixture-of-experts model (Mixtral's config layout, 8 experts, 2 per token) over real sockets
 * (engine, dealer and the gateway's RemoteBackend in this process, 127.0.0.1), under ring64 (the
 * engine's default): the card carries the experts' shape (config.variant.moe) and their plan, the
 * dealer derives every expert's mask from the pairing request, and the private greedy tokens and
 * log-probabilities equal the fixed-point oracle's (which evaluates the same MoE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIXTRAL_CONFIG } from '../helpers/hf-family-checkpoints.js';
import { greedyAgainstOracle, serveSyntheticCheckpoint, type NetworkedModel } from '../helpers/networked-hf-model.js';

let served: NetworkedModel;

beforeAll(async () => {
  served = await serveSyntheticCheckpoint('mixtral', MIXTRAL_CONFIG, 'moe-net');
}, 120_000);

afterAll(async () => {
  await served?.close();
});

describe('a mixture-of-experts model served over the network', () => {
  it('publishes the experts in the card, and the private greedy tokens and log-probabilities equal the oracle', async () => {
    expect(served.engine.card.config.variant).toEqual({ moe: { nExperts: 8, topK: 2, normalizeTopK: true } });
    expect(served.engine.card.fixedPoint!.weights.filter((w) => w.name.startsWith('layers.0.experts.'))).toHaveLength(8);
    const prompt = served.model.tokenizer.encode('Once upon a time, there was a little girl named Lily', { addBos: true });
    const count = 10;
    // The engine runs ring64 (the default): its oracle is the fixed-point plaintext of the same plan.
    const { tokens, oracleTokens, worst, worstFloat, oraclePlan } = await greedyAgainstOracle(served, prompt, count);
    expect(served.engine.card.fixedPoint!.plan).toEqual(oraclePlan);
    console.log(`Mixtral layout over the network (ring64): ${count} tokens ${JSON.stringify(served.model.tokenizer.decode(tokens))}; max |private − fixed-point oracle| log-probability ${worst.toExponential(2)} (float plaintext ${worstFloat.toExponential(2)})`);
    expect(tokens).toEqual(oracleTokens);
    // The logits are the fixed-point oracle's bit for bit; only the log-sum-exp's summation order
    // (the user's permuted view) differs.
    expect(worst).toBeLessThan(1e-12);
  }, 120_000);
});
