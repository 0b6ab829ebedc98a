/**
 * Gemma 3 over real sockets (engine, dealer and the gateway's RemoteBackend in this process,
 * 127.0.0.1), ring64: the model variant (q/k norm, post-norms, GELU gate, alternating windows,
 * local RoPE, score scale, embedding scale) reaches the gateway and the dealer through the model
 * card and the pairing request, and the plan's q/k-norm and post-norm exponents through the
 * fixed-point plan, so the private tokens and log-probabilities equal the fixed-point oracle's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEMMA3_CONFIG } from '../helpers/hf-family-checkpoints.js';
import { greedyAgainstOracle, serveSyntheticCheckpoint, type NetworkedModel } from '../helpers/networked-hf-model.js';

let served: NetworkedModel;

beforeAll(async () => {
  served = await serveSyntheticCheckpoint('gemma3', { ...GEMMA3_CONFIG, torch_dtype: 'float32' }, 'gemma3-net');
}, 120_000);

afterAll(async () => {
  await served?.close();
});

describe('Gemma 3 served over the network (ring64)', () => {
  it('publishes the variant in the card, and the private greedy tokens and log-probabilities equal the oracle', async () => {
    expect(served.model.config.variant?.qkNorm).toBe(true);
    expect(served.model.config.variant?.postNorms).toBe(true);
    expect(served.engine.card.config.variant).toEqual(served.model.config.variant);
    const prompt = served.model.tokenizer.encode('Once upon a time, there was a little girl named Lily', { addBos: true });
    const count = 10;
    // The engine runs ring64 (the default): its oracle is the fixed-point plaintext of the same plan.
    const { tokens, oracleTokens, worst, worstFloat, oraclePlan } = await greedyAgainstOracle(served, prompt, count);
    expect(served.engine.card.fixedPoint!.plan).toEqual(oraclePlan);
    console.log(`gemma-3 over the network (ring64): ${count} tokens ${JSON.stringify(served.model.tokenizer.decode(tokens))}; max |private − fixed-point oracle| log-probability ${worst.toExponential(2)} (float plaintext ${worstFloat.toExponential(2)})`);
    expect(tokens).toEqual(oracleTokens);
    // The logits are the fixed-point oracle's bit for bit; only the log-sum-exp's summation order
    // (the user's permuted view) differs.
    expect(worst).toBeLessThan(1e-12);
  }, 120_000);
});
