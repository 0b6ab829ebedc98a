/**
 * A RoPE-scaled model over real sockets (engine, dealer and the gateway's RemoteBackend in this
 * process, 127.0.0.1): the scaling reaches the gateway through the model card, so the private
 * tokens and their log-probabilities equal the oracle's (ring64, the engine's default: the
 * fixed-point plaintext of the card's plan). The checkpoint has Llama's
 * layout with a llama3 rope_scaling block whose original length is scaled down to 16, so the
 * scaling changes every position's rotation within the run (a gateway on plain RoPE would not
 * match: see tests/protocol/private-model-families.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llamaWithRope } from '../helpers/hf-family-checkpoints.js';
import { greedyAgainstOracle, serveSyntheticCheckpoint, type NetworkedModel } from '../helpers/networked-hf-model.js';

let served: NetworkedModel;

beforeAll(async () => {
  served = await serveSyntheticCheckpoint('llama3-rope', llamaWithRope({ rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 }), 'rope-net');
}, 120_000);

afterAll(async () => {
  await served?.close();
});

describe('a llama3-scaled model served over the network', () => {
  it('publishes the scaling in the card, and the private greedy tokens and log-probabilities equal the oracle', async () => {
    expect(served.engine.card.config.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 });
    const prompt = served.model.tokenizer.encode('Once upon a time, there was a little girl named Lily', { addBos: true });
    const count = 10;
    // The engine runs ring64 (the default): its oracle is the fixed-point plaintext of the same plan.
    const { tokens, oracleTokens, worst, worstFloat, oraclePlan } = await greedyAgainstOracle(served, prompt, count);
    expect(served.engine.card.fixedPoint!.plan).toEqual(oraclePlan);
    console.log(`llama3-scaled over the network (ring64): ${count} tokens ${JSON.stringify(served.model.tokenizer.decode(tokens))}; max |private − fixed-point oracle| log-probability ${worst.toExponential(2)} (float plaintext ${worstFloat.toExponential(2)})`);
    expect(tokens).toEqual(oracleTokens);
    // The logits are the fixed-point oracle's bit for bit; only the log-sum-exp's summation order
    // (the user's permuted view) differs.
    expect(worst).toBeLessThan(1e-12);
  }, 120_000);
});
