/**
 * Rounds and bytes on stories260K (5 layers), as the gateway's session stats report them:
 * - the critical path of a decode step is 8 one-way flights per layer (PermLLM's 6 round
 *   trips less the FFN norm's, deferred into the SwiGLU step: deferred-ffn-norm.test.ts, and
 *   less P·V's, fused into the softmax's flights: fused-values.test.ts) plus 6 outside the
 *   layers (embedding, final norm, LM head, logits opening, token lookup):
 *   flightsPerToken = 8·L + 6 = 46;
 * - the optimised schedule (offline sends, V = B′, fusion) sends fewer bytes to the engine per
 *   decode step than the paper-style baseline (`optimized: false`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { pairModel, privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

const TOKENS = 8;

describe('critical path and bytes per token (stories260K)', () => {
  let model: ModelDescription;
  beforeAll(async () => {
    model = await loadModel(defaultModelPath());
  });

  it('8 flights per layer, 8·L + 6 per token, and fewer bytes to the engine than the baseline', async () => {
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    const parties = await pairModel(model);
    const optimized = await privateGenerateInProcess(parties, prompt, TOKENS, { optimized: true });
    const baseline = await privateGenerateInProcess(parties, prompt, TOKENS, { optimized: false });
    const L = model.config.nLayers;
    const line = (name: string, s: typeof optimized.stats) =>
      `${name.padEnd(10)} flights/token ${s.flightsPerToken}, flights/layer ${s.flightsPerLayer}, bytes/token to engine ${Math.round(s.perToken.bytesToEngine)}, ` +
      `from engine ${Math.round(s.perToken.bytesFromEngine)}, dealer→gateway ${Math.round(s.perToken.dealerBytesToGateway)}`;
    console.log(`${line('optimized', optimized.stats)}\n${line('baseline', baseline.stats)}`);
    expect(optimized.tokens).toEqual(baseline.tokens);
    expect(optimized.stats.flightsPerLayer).toBe(8);
    expect(optimized.stats.flightsPerToken).toBe(8 * L + 6);
    expect(optimized.stats.perToken.bytesToEngine).toBeLessThan(baseline.stats.perToken.bytesToEngine);
  });
});
