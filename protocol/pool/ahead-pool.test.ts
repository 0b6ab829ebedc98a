/**
 * The bounded pool of offline-only items: it produces ahead, never more than `capacity` ready
 * (plus one in production) nor more than `total` in all, hands items out in order, and releases
 * what was not taken when the session ends.
 */
import { describe, expect, it } from 'vitest';
import { AheadPool } from './ahead-pool.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function counter() {
  let made = 0;
  let alive = 0;
  let peak = 0;
  const released: number[] = [];
  return {
    produce: async () => {
      await turn();
      made++;
      alive++;
      peak = Math.max(peak, alive);
      return made;
    },
    release: (item: number) => {
      alive--;
      released.push(item);
    },
    taken: () => alive--,
    get made() {
      return made;
    },
    get peak() {
      return peak;
    },
    released,
  };
}

describe('AheadPool', () => {
  it('fills ahead up to its capacity while nobody takes', async () => {
    const c = counter();
    const pool = new AheadPool({ capacity: 2, total: 10, produce: c.produce, release: c.release });
    for (let k = 0; k < 10; k++) await turn();
    expect(pool.readyCount).toBe(2);
    expect(c.made).toBe(2);
    pool.dispose();
    expect(c.released).toEqual([1, 2]);
  });

  it('hands items out in order, waits for one in production, and stops at total', async () => {
    const c = counter();
    const pool = new AheadPool({ capacity: 1, total: 4, produce: c.produce, release: c.release });
    const got: number[] = [];
    for (let k = 0; k < 4; k++) {
      got.push(await pool.take());
      c.taken();
    }
    expect(got).toEqual([1, 2, 3, 4]);
    for (let k = 0; k < 5; k++) await turn();
    expect(c.made).toBe(4);
    expect(c.peak).toBeLessThanOrEqual(2);
    await expect(pool.take()).rejects.toThrow(/all 4 items taken/);
    pool.dispose();
    expect(c.released).toEqual([]);
  });

  it('releases an item that finishes after dispose, and refuses takes after it', async () => {
    const c = counter();
    const pool = new AheadPool({ capacity: 1, total: 3, produce: c.produce, release: c.release });
    pool.dispose();
    for (let k = 0; k < 3; k++) await turn();
    expect(c.released).toEqual([1]);
    await expect(pool.take()).rejects.toThrow(/after dispose/);
  });

  it('rejects the next take with the producer error', async () => {
    const pool = new AheadPool<number>({ capacity: 1, total: 3, produce: async () => { throw new Error('no keys'); }, release: () => undefined });
    await expect(pool.take()).rejects.toThrow('no keys');
    pool.dispose();
  });
});
