/**
 * The whole private session with every party's products in compute workers
 * (compute/worker/worker-pool-backend.ts) on stories260K, ring64: the tokens and every step's
 * (sorted) permuted logits equal the in-thread fixed-point oracle's bit for bit, and the
 * products really ran in the workers (prefill chunks are above the in-thread threshold).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPoolBackend } from '../../compute/worker/worker-pool-backend.js';
import { pairInProcessFor, type InProcessParties } from '../../in-process/in-process-parties.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import { fixedPointGenerate, privateGenerateInProcess, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';

describe('a private session on the compute worker pool', () => {
  const pool = new WorkerPoolBackend({ size: 2 });
  let parties: InProcessParties;
  beforeAll(async () => {
    parties = await pairInProcessFor(await loadModel(defaultModelPath()), RING64_PROFILE, pool);
  });
  afterAll(() => pool.close());

  it('equals the in-thread fixed-point oracle bit for bit (stories260K, ring64)', async () => {
    const prompt = Array.from({ length: 40 }, (_, i) => 300 + ((i * 37) % 200));
    const before = pool.stats().dispatched;
    const run = await privateGenerateInProcess(parties, prompt, 4);
    expect(pool.stats().dispatched - before).toBeGreaterThan(0);
    // The oracle runs on the process's in-thread backend (FixedPointModel's default).
    const oracle = await fixedPointGenerate(parties, prompt, 4);
    expect(run.tokens).toEqual(oracle.tokens);
    expect(sortedLogitsMismatches(run.logits, oracle.logits)).toBe(0);
  });
});
