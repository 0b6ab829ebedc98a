/**
 * The ring sub-protocols' whole-tensor passes in bounded slices (ring-slices.ts, issue 15):
 * - every sliced helper is bit for bit its synchronous function;
 * - Elem(softmax) over a long prefill chunk's causal triangle, all three parties in this process,
 *   gives the synchronous softmax's probabilities exactly, and never holds the event loop for a
 *   long synchronous stretch: a setImmediate probe (one tick per turn of the event loop) measures
 *   the CPU time between two turns (process.cpuUsage, so that the time the OS leaves this thread
 *   unscheduled on a loaded machine does not count; a test file runs in a process of its own).
 *   The bound is relative: the longest stretch must stay below a quarter of the step's own CPU
 *   time, where the step is grown until it is at least 20 slice budgets long; the control, the
 *   same work done synchronously, is measured by the same probe as one stretch of all of it.
 *   With the slicing removed (one block per pass, no yield between the passes) the step's
 *   longest stretch was 47 % of its CPU time (134 of 287 ms) and this test failed; sliced, 10–13 %.
 */
import { loadavg } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { SLICE_BUDGET_MS } from '../../../compute/event-loop-slices.js';
import { encodeFixed, ringAdd, ringEquals, ringSub, type Ring } from '../../../compute/ring64.js';
import { Prg } from '../../../crypto/prg.js';
import { ringMask } from '../../masks/ring-masks.js';
import { RING64_PROFILE } from '../../masks/mask-profile.js';
import { Permutation } from '../../permutations/permutation.js';
import { ThreeParties } from '../../../tests/helpers/three-party-harness.js';
import { causalSize, drawCausalPermutation, drawCausalPermutationInSlices, packCausal, softmaxCausal, softmaxCausalInSlices, type CausalShape } from './ring-causal.js';
import { ringCausalSoftmax } from './ring-causal-softmax.js';
import { applyInSlices, invertInSlices, RING_SLICE_ELEMENTS, ringAddInSlices, ringMaskInSlices, ringSubInSlices } from './ring-slices.js';

const prg = (seed: number) => new Prg(new Uint8Array(32).fill(seed));
const N = 3 * RING_SLICE_ELEMENTS + 123;
const [IN_EXP, OUT_EXP, SCALE] = [20, 24, 0.35];

/** Scores [heads, rows, keys] of moderate size at IN_EXP (what a softmax step legitimately sees). */
const scoresFor = (s: CausalShape, seed: number) => encodeFixed(prg(seed).uniformArray(s.heads * s.rows * (s.start + s.rows), 6), IN_EXP);

describe('sliced ring passes are the synchronous functions bit for bit', () => {
  it('masks (full and narrowed), sums and differences', async () => {
    for (const bits of [64, 40]) expect(ringEquals(await ringMaskInSlices(prg(1), N, bits), ringMask(prg(1), N, bits))).toBe(true);
    const a = ringMask(prg(2), N);
    const b = ringMask(prg(3), N);
    expect(ringEquals(await ringAddInSlices(a, b), ringAdd(a, b))).toBe(true);
    expect(ringEquals(await ringSubInSlices(a, b), ringSub(a, b))).toBe(true);
    const c = a.slice();
    expect(ringEquals(await ringAddInSlices(c, b, c), ringAdd(a, b))).toBe(true); // in place
  });

  it('π and π⁻¹, flat, row-wise and paired (two blocks under one π)', async () => {
    for (const shape of [{ kind: 'flat', length: N } as const, { kind: 'row-wise', rows: 97, cols: 501 } as const]) {
      const p = Permutation.draw(prg(4), shape);
      for (const x of [ringMask(prg(5), p.length), ringMask(prg(6), 2 * p.length), prg(7).uniformArray(2 * p.length, 1)]) {
        const applied = await applyInSlices(p, x);
        const inverted = await invertInSlices(p, x);
        expect(Buffer.from(applied.buffer).equals(Buffer.from(p.apply(x).buffer))).toBe(true);
        expect(Buffer.from(inverted.buffer).equals(Buffer.from(p.invert(x).buffer))).toBe(true);
      }
    }
  });

  it('the causal permutation and the causal softmax', async () => {
    const s: CausalShape = { heads: 8, rows: 32, start: 200 };
    expect(Buffer.from((await drawCausalPermutationInSlices(prg(8), s)).dest.buffer).equals(Buffer.from(drawCausalPermutation(prg(8), s).dest.buffer))).toBe(true);
    const view = packCausal(scoresFor(s, 9), s);
    expect(ringEquals(await softmaxCausalInSlices(view, s, SCALE, IN_EXP, OUT_EXP), softmaxCausal(view, s, SCALE, IN_EXP, OUT_EXP))).toBe(true);
  });
});

/** This process's CPU time (ms): the main thread's, plus what V8's helper threads do meanwhile. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface Stretches {
  /** The longest CPU time between two turns of the event loop (ms). */
  longest: number;
  /** The CPU time of the whole run (ms). */
  total: number;
}

/** The longest CPU stretch between two turns of the event loop while `run` is in progress. */
async function stretches(run: () => Promise<unknown>): Promise<Stretches> {
  let last = cpuMs();
  let longest = 0;
  let probing = true;
  const tick = () => {
    const now = cpuMs();
    longest = Math.max(longest, now - last);
    last = now;
    if (probing) setImmediate(tick);
  };
  setImmediate(tick);
  const start = cpuMs();
  await run();
  const total = cpuMs() - start;
  probing = false;
  tick();
  return { longest, total };
}

describe('Elem(softmax) over a long prefill chunk holds the event loop only in short slices', () => {
  const harnesses: ThreeParties[] = [];
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.close();
  });

  it('three parties, 8 heads × 32 rows over a long memory: exact, and no stretch above a quarter of the step', async () => {
    let start = 464; // the last full chunk of a ~500-token prompt; grown until the step is long enough to judge
    for (;;) {
      const s: CausalShape = { heads: 8, rows: 32, start };
      const h = new ThreeParties({ profile: RING64_PROFILE, seed: 'ring-slices' });
      harnesses.push(h);
      const x = scoresFor(s, 10);
      const x1 = ringMask(prg(11), x.length);
      const shares = { engine: ringSub(x, x1), gateway: x1, dealer: undefined };
      let out: Record<string, Ring | undefined> = {};
      const sliced = await stretches(async () => {
        const r = await h.run((ctx) => ringCausalSoftmax(ctx, { meta: { offlineKnown: false }, share: shares[ctx.role], size: x.length }, s, SCALE, IN_EXP, OUT_EXP));
        out = { engine: r.engine.share, gateway: r.gateway.share };
      });
      const expected = softmaxCausal(packCausal(x, s), s, SCALE, IN_EXP, OUT_EXP);
      expect(ringEquals(ringAdd(out['engine']!, out['gateway']!), expected)).toBe(true);
      if (sliced.total < 20 * SLICE_BUDGET_MS && start < 8192) {
        start *= 2;
        continue;
      }
      // The control: the step's heaviest parts done synchronously are one stretch as long as they are.
      const control = await stretches(async () => {
        await Promise.resolve();
        const p = drawCausalPermutation(h.k02.prg('control'), s);
        softmaxCausal(p.apply(packCausal(x, s)), s, SCALE, IN_EXP, OUT_EXP);
      });
      console.log(
        `causal softmax over ${causalSize(s)} entries (${s.start + s.rows} keys): longest stretch ${sliced.longest.toFixed(1)} ms of ${sliced.total.toFixed(0)} ms on a CPU; synchronous control ${control.longest.toFixed(1)} of ${control.total.toFixed(0)} ms (load average ${loadavg()[0]!.toFixed(1)})`,
      );
      expect(control.longest).toBeGreaterThan(0.8 * control.total);
      expect(sliced.longest).toBeLessThan(sliced.total / 4);
      return;
    }
  });
});
