/**
 * ring64 guards and footprint (stories260K):
 * - overflow is never silent: with a plan that leaves no headroom (values planned 2^6 beyond the
 *   ring), the user's first permuted view holds integers at or beyond 2^61 and the request ends
 *   with a RingOverflowError naming the view, on every party, instead of decoding wrapped values;
 *   the checked decoder itself refuses such integers and lets the causal-mask zone through;
 * - memory follows the format: the engine holds int16 weights only (2 bytes per parameter, no
 *   float copy in its role model), the gateway X − U and the dealer U as ring elements (8 bytes
 *   per parameter, stored as eight byte planes); the per-party figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { planarBytes } from '../../compute/ring-gemm.js';
import { ringFromIntegers } from '../../compute/ring64.js';
import { defaultModelPath, loadModel } from '../../model/load-model.js';
import { decodeChecked, RingOverflowError } from '../../plaintext/fixed-point/fixed-point-elem.js';
import { pairInProcessFor } from '../../in-process/in-process-parties.js';
import { RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import type { RoleModel } from '../../protocol/session/role-model.js';
import { privateGenerateInProcess } from '../helpers/private-vs-plaintext.js';

function bytesPerParameter(m: RoleModel): { bytes: number; params: number } {
  let bytes = 0;
  let params = 0;
  for (const w of m.ring!.weights.values()) {
    bytes += planarBytes(w.data) + (w.bias?.byteLength ?? 0);
    params += w.spec.outDim * w.spec.inDim;
  }
  return { bytes, params };
}

describe('ring64 overflow and memory (stories260K)', () => {
  it('the checked decoder refuses integers at or beyond 2^61 and decodes the causal-mask zone as −∞', () => {
    const ok = ringFromIntegers([2 ** 60, -(2 ** 60)]);
    expect(Array.from(decodeChecked(ok, 10, 'test'))).toEqual([2 ** 50, -(2 ** 50)]);
    expect(() => decodeChecked(ringFromIntegers([2 ** 61]), 10, 'RMSNorm input')).toThrow(RingOverflowError);
    expect(() => decodeChecked(ringFromIntegers([-(2 ** 61) - 2 ** 40]), 10, 'RMSNorm input')).toThrow(/fixed-point overflow: a value in the RMSNorm input/);
    const masked = ringFromIntegers([-(2 ** 62) + 12345]);
    expect(decodeChecked(masked, 10, 'scores', true)[0]).toBe(-Infinity);
    expect(() => decodeChecked(masked, 10, 'scores', false)).toThrow(RingOverflowError);
  });

  it('a plan without headroom ends the request with a clear overflow error instead of wrapped values', async () => {
    const model = await loadModel(defaultModelPath());
    const parties = await pairInProcessFor(model, RING64_PROFILE, undefined, { headroomBits: -6 });
    const prompt = model.tokenizer.encode('Once upon a time', { addBos: true });
    await expect(privateGenerateInProcess(parties, prompt, 2)).rejects.toThrow(/fixed-point overflow: a value in the .* reached 2\^61/);
  });

  it('the engine keeps int16 weights only; the gateway and the dealer hold ring elements', async () => {
    const model = await loadModel(defaultModelPath());
    const parties = await pairInProcessFor(model, RING64_PROFILE);
    expect(parties.engine.weights.size).toBe(0); // no float copy in the engine's role model
    for (const w of parties.engine.ring!.weights.values()) expect(w.data.kind).toBe('int16'); // two byte planes
    for (const w of parties.gateway.ring!.weights.values()) expect(w.data.kind).toBe('ring'); // eight byte planes
    const e = bytesPerParameter(parties.engine);
    const g = bytesPerParameter(parties.gateway);
    const d = bytesPerParameter(parties.dealer);
    console.log(
      `ring64 weights, ${e.params} parameters (folded): engine ${(e.bytes / e.params).toFixed(3)} B/param (int16), ` +
        `gateway ${(g.bytes / g.params).toFixed(3)} B/param (X − U in Z_2^64), dealer ${(d.bytes / d.params).toFixed(3)} B/param (U in Z_2^64)`,
    );
    expect(e.bytes / e.params).toBeLessThanOrEqual(2);
    expect(g.bytes / g.params).toBe(8);
  });
});
