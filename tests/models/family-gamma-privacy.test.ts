/**
 * The q/k-norm and post-norm weights γ of Qwen3 and Gemma (ring64) never reach the user: the
 * engine applies them in diagonal MulWs, the user holds only X − U for them, with U uniform on
 * the ring from the pairing key. Checked on what the gateway actually holds after an in-process
 * pairing: no entry of its copy equals the engine's integer, and the top bits of its copy are
 * spread like uniform ring elements (γ's integers are small: unmasked, their high word is 0 or
 * 0xffffffff). The public parts (the ring weight specs and the plan) carry exponents only.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unplanar } from '../../compute/ring-gemm.js';
import { ringFromIntegers, words } from '../../compute/ring64.js';
import { loadHuggingFaceModel } from '../../model/huggingface/load-huggingface-model.js';
import { weightName } from '../../model/fixed-point/folded-weights.js';
import { loadModel } from '../../model/load-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { buildCheckpoint, GEMMA3_CONFIG, writeCheckpoint } from '../helpers/hf-family-checkpoints.js';
import { pairModel } from '../helpers/private-vs-plaintext.js';
import { scratchDir, stories260KDir } from './model-dirs.js';

let tokenizer: Tokenizer;
let work: string;
beforeAll(async () => {
  tokenizer = (await loadModel(stories260KDir)).tokenizer;
  work = await scratchDir('family-gamma-privacy');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('γ of the q/k norm and the post-norms stays with the engine (ring64)', () => {
  it('gemma-3: the gateway holds X − U for every γ map, uniform-looking, never X', async () => {
    const model = await loadHuggingFaceModel(await writeCheckpoint(path.join(work, 'gemma3'), buildCheckpoint({ ...GEMMA3_CONFIG, torch_dtype: 'float32' }, 'gemma3-gamma')), { tokenizer });
    const parties = await pairModel(model, RING64_PROFILE);
    const gateway = parties.gateway.ring!.weights;
    const engine = parties.engine.ring!.weights;
    expect(parties.gateway.weights.size).toBe(0);
    const names = Array.from({ length: model.config.nLayers }, (_, l) => [weightName.qkNorm(l), weightName.postAttnNorm(l), weightName.postFfnNorm(l)]).flat();
    let values = 0;
    let hiSum = 0;
    for (const name of names) {
      const g = gateway.get(name);
      const e = engine.get(name);
      expect(g && e, name).toBeTruthy();
      const held = unplanar(g!.data, g!.spec.outDim, g!.spec.inDim) as BigUint64Array;
      const x = ringFromIntegers(unplanar(e!.data, e!.spec.outDim, e!.spec.inDim) as Int16Array);
      const nonzero = Array.from(x).filter((v) => v !== 0n).length;
      expect(nonzero, `${name} carries γ`).toBeGreaterThan(0);
      for (let i = 0; i < held.length; i++) expect(held[i] === x[i], `${name}[${i}] reached the user unmasked`).toBe(false);
      const w = words(held);
      for (let i = 0; i < held.length; i++) hiSum += w[2 * i + 1]! / 2 ** 32;
      values += held.length;
      // The public spec: shapes and exponents, no values.
      expect(Object.keys(g!.spec).sort()).toEqual(['blocks', 'hasBias', 'inDim', 'name', 'outDim']);
    }
    // Uniform high words average 1/2 with standard error 0.29/√n; unmasked γ would sit near 0 or 1.
    const mean = hiSum / values;
    console.log(`gemma-3: ${names.length} γ maps, ${values} values held by the gateway; mean high word ${mean.toFixed(4)} (uniform 0.5 ± ${(0.29 / Math.sqrt(values)).toFixed(4)})`);
    expect(Math.abs(mean - 0.5)).toBeLessThan(6 * (0.29 / Math.sqrt(values)));
  });
});
