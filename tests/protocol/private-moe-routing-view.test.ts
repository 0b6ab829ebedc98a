/**
 * The engine must not learn which experts a token uses (issue 13). The test records everything
 * the engine holds in a private MoE session (its ring view: every opening and masked return,
 * ringViewTap) and the gateway's masks for the same entries, so truth = view + mask is known to
 * the test. In the gate openings the truth is the gate vector itself (zero outside each token's
 * top-k: the routing); in the MoE Elem's return (ring-moe-elem.ts) it holds the permuted gate. An engine that could
 * see through a mask would find those zeros (and the small gate integers) in its view; with
 * uniform masks no view entry of the session lies within 2^32 of 0 (chance 2^-31 per entry).
 * Shown failing (256 such entries: 32 token rows × 8 experts) with the k12 half A1 of the gate
 * opening's Beaver mask set to zero, and with the MoE Elem's return mask A′ set to zero on the
 * router part (each then restored).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ringAdd, words, type Ring } from '../../compute/ring64.js';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { loadModel } from '../../model/load-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { buildCheckpoint, MIXTRAL_CONFIG, writeCheckpoint } from '../helpers/hf-family-checkpoints.js';
import { pairModel, privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';
import { scratchDir, stories260KDir } from '../models/model-dirs.js';

let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('private-moe-view');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Entries of a ring array whose signed value lies within 2^32 of zero. */
function nearZero(a: Ring): number {
  const w = words(a);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const hi = w[2 * i + 1]!;
    if (hi === 0 || hi === 0xffffffff) n++;
  }
  return n;
}

describe('private MoE: the engine view says nothing about routing', () => {
  it('gate openings hide the top-k zeros; no entry of the engine view is near zero', async () => {
    const model = await loadHuggingFaceModel(await writeCheckpoint(path.join(work, 'mixtral'), buildCheckpoint(MIXTRAL_CONFIG, 'moe-view')), { tokenizer });
    const { nExperts, topK } = model.config.variant!.moe!;
    const parties = await pairModel(model, RING64_PROFILE);
    const view = new Map<string, Ring>();
    const masks = new Map<string, Ring>();
    parties.engine.ringViewTap = (step, what, values) => view.set(`${step}/${what}`, values.slice());
    parties.gateway.ringViewTap = (step, what, values) => masks.set(`${step}/${what}`, values.slice());
    const prompt = tokenizer.encode('Once upon a time, there was a little girl named', { addBos: true });
    await privateGenerateInProcess(parties, prompt, 3);

    let gateRows = 0;
    let routedZeros = 0;
    let entries = 0;
    let leaked = 0;
    for (const [key, v] of view) {
      entries += v.length;
      leaked += nearZero(v);
      if (!key.endsWith('/gate-opening')) continue;
      // The truth here is the gate vector: exactly nExperts − topK zeros per token (random weights: no ties).
      const truth = ringAdd(v, masks.get(key)!);
      for (let r = 0; r < truth.length / nExperts; r++) {
        const zeros = Array.from(truth.subarray(r * nExperts, (r + 1) * nExperts)).filter((x) => x === 0n).length;
        expect(zeros).toBe(nExperts - topK);
        routedZeros += zeros;
        gateRows++;
      }
    }
    console.log(`engine view: ${view.size} values, ${entries} ring entries; ${gateRows} token gate rows opened (${routedZeros} routing zeros in the truth); entries within 2^32 of zero: ${leaked}`);
    expect(gateRows).toBeGreaterThan(0);
    expect(leaked).toBe(0);
  });
});
