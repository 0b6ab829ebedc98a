import { describe, expect, it } from 'vitest';
import { sliceYields } from '../../../compute/event-loop-slices.js';
import { encodeFixed, ringEquals } from '../../../compute/ring64.js';
import { Prg } from '../../../crypto/prg.js';
import { ELEM_SLICE_ELEMENTS, evaluateInSlices } from './elem-slices.js';
import { evaluateRingElem, type RingElemFunction } from './ring-elem.js';

const prg = new Prg(new Uint8Array(32).fill(5));
const view = (n: number, exponent: number) => encodeFixed(prg.uniformArray(n, 4), exponent);

describe('P1 evaluates nonlinear steps in slices', () => {
  const cases: [string, RingElemFunction][] = [
    ['softmax over many rows', { kind: 'softmax', rows: 256, cols: 497, scale: 0.35, inExp: 20, outExp: 24 }],
    ['rmsnorm with a ragged last block', { kind: 'rmsnorm', rows: 1000, cols: 64, eps: 1e-5, inExp: 20, outExp: 22 }],
    ['swiglu longer than a block', { kind: 'swiglu', length: 3 * ELEM_SLICE_ELEMENTS + 17, inExp: 20, outExp: 22 }],
    ['geglu longer than a block', { kind: 'geglu', length: 2 * ELEM_SLICE_ELEMENTS + 5, inExp: 20, outExp: 22 }],
    ['soft-capped softmax', { kind: 'softmax', rows: 300, cols: 97, scale: 0.35, softcap: 2, inExp: 20, outExp: 24 }],
  ];
  for (const [name, f] of cases) {
    it(`${name}: bit for bit what one call computes`, async () => {
      const x = view('length' in f ? 2 * f.length : f.rows * f.cols, f.inExp);
      const whole = evaluateRingElem(f, x);
      const sliced = await evaluateInSlices(f, x, evaluateRingElem);
      expect(sliced.length).toBe(whole.length);
      expect(ringEquals(sliced, whole)).toBe(true);
    });
  }

  it('yields to the event loop between blocks once a slice is due', async () => {
    const f: RingElemFunction = { kind: 'softmax', rows: 256, cols: 497, scale: 0.35, inExp: 20, outExp: 24 };
    const x = view(f.rows * f.cols, f.inExp);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const before = sliceYields();
    const slow = (g: RingElemFunction, v: BigUint64Array) => {
      const until = performance.now() + 15; // longer than a slice's budget
      while (performance.now() < until);
      return evaluateRingElem(g, v);
    };
    await evaluateInSlices(f, x, slow);
    expect(sliceYields()).toBeGreaterThan(before);
    expect(timerRan).toBe(true);
  });
});
