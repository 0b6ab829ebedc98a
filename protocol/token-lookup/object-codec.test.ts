import { describe, expect, it } from 'vitest';
import { POLY_MODULUS_DEGREE } from './bfv-parameters.js';
import { constantCoefficient, decodeCiphertextPart, encodeCiphertextPart, getTemplates, plaintextFromCoefficients } from './object-codec.js';
import { getBfvRuntime } from './seal-runtime.js';

describe('object codec (templates of the local SEAL)', () => {
  it('finds the expected shapes: seeded query and key, two-polynomial last-level answer, N-coefficient plaintext', async () => {
    const runtime = await getBfvRuntime();
    const t = getTemplates(runtime);
    expect(getTemplates(runtime)).toBe(t); // built once per process
    expect(t.query.layout).toMatchObject({ polyCount: 2, storedPolys: 1, primeCount: 3, degree: POLY_MODULUS_DEGREE, nttForm: false });
    expect(t.query.layout.seedOffset).not.toBeNull();
    expect(t.answer.layout).toMatchObject({ polyCount: 2, storedPolys: 2, primeCount: 1, seedOffset: null });
    expect(t.publicKey.layout).toMatchObject({ storedPolys: 1, primeCount: 4, nttForm: true });
    expect(t.plaintext.layout.coeffCount).toBe(POLY_MODULUS_DEGREE);
    expect([t.query.wireBytes, t.answer.wireBytes, t.publicKey.wireBytes]).toEqual([64 + (8192 * 135) / 8, (2 * 8192 * 45) / 8, 64 + (8192 * 180) / 8]);
  });

  it("wire form round-trips to SEAL's exact bytes", async () => {
    const runtime = await getBfvRuntime();
    const t = getTemplates(runtime);
    for (const template of [t.query, t.answer, t.publicKey]) {
      const wire = new Uint8Array(template.wireBytes);
      expect(encodeCiphertextPart(template.bytes, template.layout, template.moduli, wire, 0)).toBe(wire.length);
      const rebuilt = new Uint8Array(template.bytes.length); // zeros: only what the wire fills
      rebuilt.set(template.bytes.subarray(0, template.layout.dataOffset));
      if (template.layout.seedOffset !== null) rebuilt.set(template.bytes.subarray(template.layout.seedOffset - 17, template.layout.seedOffset), template.layout.seedOffset - 17);
      decodeCiphertextPart(wire, 0, template.layout, template.moduli, rebuilt, 'test');
      expect(Buffer.from(rebuilt).equals(Buffer.from(template.bytes))).toBe(true);
    }
  });

  it('writes and reads plaintext coefficients through SEAL', async () => {
    const runtime = await getBfvRuntime();
    const coefficients = Uint32Array.from({ length: POLY_MODULUS_DEGREE }, (_, i) => (i * 7919) % runtime.plainModulus);
    coefficients[0] = runtime.plainModulus - 1;
    const plain = plaintextFromCoefficients(runtime, coefficients);
    try {
      expect(constantCoefficient(runtime, plain)).toBe(runtime.plainModulus - 1);
    } finally {
      plain.delete();
    }
    expect(() => plaintextFromCoefficients(runtime, Uint32Array.of(runtime.plainModulus))).toThrow(/not below t/);
  });
});
