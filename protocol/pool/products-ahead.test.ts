/**
 * The products made ahead: a product is handed out only for the very call and V it was made
 * for (step, label, map, rows, V bit for bit), at most once, in order; anything else is a miss
 * that leaves MulW to compute online; dispose() leaves nothing behind, even mid-product.
 */
import { describe, expect, it } from 'vitest';
import { ProductsAhead, shiftLabel, type MulWCall, type ShareArray } from './products-ahead.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A fake linear map: V is the label's number repeated; the product adds the rows (so any mix-up shows). */
function call(step: number, vLabel: string, key: object, made: string[], rows = 1): MulWCall {
  return {
    step,
    vLabel,
    key,
    rows,
    drawV: (label, r) => BigUint64Array.from({ length: 2 * r }, () => BigInt(label.split('/')[0]!)),
    product: async (v, r) => {
      made.push(`${v[0]}@${r}`); // started
      await turn();
      return BigUint64Array.from(v as BigUint64Array, (x) => x + BigInt(r));
    },
  };
}

const V = (n: number) => BigUint64Array.from([BigInt(n), BigInt(n)]);

/** Lets the pool produce for a while (a wait that ends after `turns` event-loop turns). */
async function idle(pool: ProductsAhead, turns = 20): Promise<void> {
  let release!: () => void;
  const arrival = new Promise<void>((resolve) => (release = resolve));
  const work = pool.runWhile(arrival);
  for (let i = 0; i < turns; i++) await turn();
  release();
  await work;
}

describe('ProductsAhead', () => {
  it('shifts labels of the form step/name only', () => {
    expect(shiftLabel('12/V', 30)).toBe('42/V');
    expect(shiftLabel('7/B2', 3)).toBe('10/B2');
    expect(shiftLabel('pairing/U', 3)).toBeUndefined();
  });

  it('predicts the next pass from this one, makes it while waiting, and hands each product out once', async () => {
    const pool = new ProductsAhead();
    const wq = {};
    const wo = {};
    const made: string[] = [];
    pool.beginPass();
    pool.record(call(3, '3/V', wq, made, 5)); // the prefill's call (5 rows): predicted at one row
    pool.record(call(6, '5/B2', wo, made, 5));
    pool.predictNextPass(10);
    expect(pool.pending).toBe(2);
    await idle(pool);
    expect(made).toEqual(['13@1', '15@1']);
    expect(pool.heldBytes).toBe(2 * (16 + 16));
    const q = await pool.take({ step: 13, vLabel: '13/V', key: wq, rows: 1 }, V(13));
    expect(q).toEqual(BigUint64Array.from([14n, 14n]));
    const o = await pool.take({ step: 16, vLabel: '15/B2', key: wo, rows: 1 }, V(15));
    expect(o).toEqual(BigUint64Array.from([16n, 16n]));
    expect(pool.stats).toMatchObject({ hits: 2, misses: 0, produced: 2, dropped: 0 });
    expect(pool.heldBytes).toBe(0);
    expect(pool.peakBytes).toBe(64);
    // Taken once: asking again is a miss.
    expect(await pool.take({ step: 16, vLabel: '15/B2', key: wo, rows: 1 }, V(15))).toBeUndefined();
  });

  it('refuses a product made for another V, map, label or row count (a miss, never a wrong result)', async () => {
    const key = {};
    for (const [asked, v] of [
      [{ step: 11, vLabel: '11/V', key, rows: 1 }, BigUint64Array.from([11n, 12n])], // V differs in one word
      [{ step: 11, vLabel: '11/V', key: {}, rows: 1 }, V(11)], // another weight
      [{ step: 11, vLabel: '10/B2', key, rows: 1 }, V(11)], // another label
      [{ step: 11, vLabel: '11/V', key, rows: 2 }, V(11)], // another shape
    ] as const) {
      const pool = new ProductsAhead();
      pool.beginPass();
      pool.record(call(1, '1/V', key, []));
      pool.predictNextPass(10);
      await idle(pool);
      expect(await pool.take(asked, v as ShareArray)).toBeUndefined();
      expect(pool.stats).toMatchObject({ hits: 0, misses: 1, mismatches: 1 });
      expect(pool.heldBytes).toBe(0);
    }
  });

  it('a product not started when needed is a miss; one under way is waited for; passed-over ones are dropped', async () => {
    const key = {};
    const made: string[] = [];
    const pool = new ProductsAhead();
    pool.beginPass();
    for (const s of [1, 2, 3]) pool.record(call(s, `${s}/V`, key, made));
    pool.predictNextPass(10);
    // Nothing made yet: the first is a miss (MulW makes it online).
    expect(await pool.take({ step: 11, vLabel: '11/V', key, rows: 1 }, V(11))).toBeUndefined();
    expect(pool.stats.notReady).toBe(1);
    // The second starts during a wait that ends at once, and is awaited by its take.
    let release!: () => void;
    const work = pool.runWhile(new Promise<void>((resolve) => (release = resolve)));
    release();
    await work;
    expect(pool.inFlight).toBe(1);
    expect(await pool.take({ step: 12, vLabel: '12/V', key, rows: 1 }, V(12))).toEqual(BigUint64Array.from([13n, 13n]));
    expect(pool.stats).toMatchObject({ hits: 1, lateHits: 1 });
    // Step 13 is never asked for: a later step drops it.
    expect(await pool.take({ step: 20, vLabel: '20/V', key, rows: 1 }, V(20))).toBeUndefined();
    expect(pool.stats.dropped).toBe(2);
    expect(pool.pending).toBe(0);
  });

  it('makes one product at a time and none after the wait ends', async () => {
    const key = {};
    const made: string[] = [];
    const pool = new ProductsAhead();
    pool.beginPass();
    for (const s of [1, 2, 3, 4]) pool.record(call(s, `${s}/V`, key, made));
    pool.predictNextPass(10);
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (release = resolve));
    const work = pool.runWhile(arrival);
    // Never two at once; the first starts within a few turns (between two products the pool may
    // yield a turn when its slice is due, which on a loaded machine it often is).
    let sawOne = false;
    for (let i = 0; i < 50 && !sawOne; i++) {
      expect(pool.inFlight).toBeLessThanOrEqual(1);
      sawOne = pool.inFlight === 1;
      if (!sawOne) await turn();
    }
    expect(sawOne).toBe(true);
    const started = made.length;
    release();
    await work;
    await pool.settled();
    for (let i = 0; i < 10; i++) await turn();
    expect(made).toHaveLength(started); // none started after the wait ended
    expect(started).toBeLessThan(4);
    expect(pool.stats.produced).toBe(started);
  });

  it('dispose() mid-product leaves nothing behind', async () => {
    const key = {};
    const made: string[] = [];
    const pool = new ProductsAhead();
    pool.beginPass();
    for (const s of [1, 2]) pool.record(call(s, `${s}/V`, key, made));
    pool.predictNextPass(10);
    let release!: () => void;
    const work = pool.runWhile(new Promise<void>((resolve) => (release = resolve)));
    expect(pool.inFlight).toBe(1);
    pool.dispose();
    release();
    await work;
    await pool.settled();
    expect(made).toHaveLength(1); // the product under way finished, and was dropped
    expect(pool.pending).toBe(0);
    expect(pool.heldBytes).toBe(0);
    expect(pool.inFlight).toBe(0);
    expect(pool.stats.produced).toBe(0);
    // Nothing is recorded or predicted after the end.
    pool.beginPass();
    pool.record(call(5, '5/V', key, made));
    pool.predictNextPass(10);
    expect(pool.pending).toBe(0);
  });
});
