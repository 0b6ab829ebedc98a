/**
 * The private embedding pass (ring64) against its oracles: the opened pooled vector equals the
 * fixed-point oracle's bit for bit (short input and one longer than a prefill chunk), and the
 * mean-pooled vector is the float oracle's up to quantisation. Also: the session's shape as the
 * engine and the dealer see it (one pass, no token lookup), and that γ stays at the engine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ringEquals } from '../../compute/ring64.js';
import { embedInProcess } from '../../in-process/in-process-embedding.js';
import type { InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { fixedPointEmbedding } from '../../plaintext/fixed-point/fixed-point-embedding.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { PREFILL_CHUNK_ROWS } from '../../protocol/schedule/forward-program.js';
import { PERMLLM_PROFILE } from '../../protocol/masks/mask-profile.js';
import { pairModel } from '../helpers/private-vs-plaintext.js';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

async function floatMean(model: ModelDescription, tokens: readonly number[]): Promise<Float64Array> {
  const hidden = await new PlaintextModel(model).newSequence().finalHiddenStates(tokens);
  const dim = model.config.dim;
  const out = new Float64Array(dim);
  for (let t = 0; t < tokens.length; t++) for (let i = 0; i < dim; i++) out[i]! += hidden[t * dim + i]!;
  for (let i = 0; i < dim; i++) out[i] = out[i]! / tokens.length;
  return out;
}

describe('private embeddings (ring64) equal the fixed-point oracle bit for bit', () => {
  let model: ModelDescription;
  let parties: InProcessParties;
  let oracle: FixedPointModel;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
    parties = await pairModel(model);
    oracle = new FixedPointModel(model.config, parties.fixedPoint!.plan, parties.fixedPoint!.weights);
  }, 120_000);

  it('short input: opened ring vector == oracle, mean close to the float oracle', async () => {
    const tokens = model.tokenizer.encode('Lily saw a big red ball in the park.', { addBos: true });
    const { result, engine, dealer } = await embedInProcess(parties, { tokens });
    const expected = await fixedPointEmbedding(oracle, model.weights.finalNorm, tokens);
    expect(result.pooled).toHaveLength(model.config.dim);
    expect(result.exponent).toBe(expected.exponent);
    expect(ringEquals(result.pooled!, expected.pooled)).toBe(true);
    expect([...result.embedding]).toEqual([...expected.mean]);
    const plain = await floatMean(model, tokens);
    const c = cosine(result.embedding, plain);
    let maxAbs = 0;
    for (let i = 0; i < plain.length; i++) maxAbs = Math.max(maxAbs, Math.abs(result.embedding[i]! - plain[i]!));
    console.log(`embedding of ${tokens.length} tokens: ring64 vs float oracle cosine ${c.toFixed(9)}, max |Δ| ${maxAbs.toExponential(2)}; ${result.stats.bytesToEngine} B to the engine, ${result.stats.bytesFromEngine} B from it, ${result.stats.dealerBytesToGateway} B from the dealer, ${result.stats.flights} flights, ${result.stats.ms.toFixed(0)} ms`);
    expect(c).toBeGreaterThan(0.9999);
    expect(engine.passes).toBe(1);
    expect(dealer.passesPrepared).toBe(1);
  }, 120_000);

  it('an input longer than one prefill chunk is pooled over every row', async () => {
    const text = 'Once upon a time there was a little girl named Lily. She loved to play outside with her dog and her friends in the sun.';
    const tokens = model.tokenizer.encode(text, { addBos: true });
    expect(tokens.length).toBeGreaterThan(PREFILL_CHUNK_ROWS);
    const { result } = await embedInProcess(parties, { tokens });
    const expected = await fixedPointEmbedding(oracle, model.weights.finalNorm, tokens);
    expect(ringEquals(result.pooled!, expected.pooled)).toBe(true);
    // Not the last row's state alone: the first chunk's rows count.
    const tail = await fixedPointEmbedding(oracle, model.weights.finalNorm, tokens.slice(PREFILL_CHUNK_ROWS));
    expect(ringEquals(result.pooled!, tail.pooled)).toBe(false);
    expect(cosine(result.embedding, await floatMean(model, tokens))).toBeGreaterThan(0.9999);
  }, 120_000);

  it('permllm-f64: the float pass gives the float oracle\'s mean up to its statistical masks', async () => {
    const float = await pairModel(model, PERMLLM_PROFILE);
    const tokens = model.tokenizer.encode('Lily saw a big red ball in the park.', { addBos: true });
    const { result } = await embedInProcess(float, { tokens });
    expect(result.pooled).toBeUndefined();
    const plain = await floatMean(model, tokens);
    let maxAbs = 0;
    let scale = 0;
    for (let i = 0; i < plain.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(result.embedding[i]! - plain[i]!));
      scale = Math.max(scale, Math.abs(plain[i]!));
    }
    console.log(`permllm-f64 embedding of ${tokens.length} tokens: max |Δ| ${maxAbs.toExponential(2)} against the float oracle (max |v| ${scale.toFixed(3)}), cosine ${cosine(result.embedding, plain).toFixed(9)}`);
    expect(maxAbs / scale).toBeLessThan(1e-3);
  }, 120_000);

  it('the gateway holds no copy of γ (it is folded into the masked LM head), the engine does', () => {
    expect(parties.gateway.finalNormGamma).toBeUndefined();
    expect(parties.dealer.finalNormGamma).toBeUndefined();
    expect(parties.engine.finalNormGamma).toBe(model.weights.finalNorm);
  });
});
