/**
 * Fixed-work selection over a whole vocabulary in value order, the building block of the
 * sampler and of top_logprobs (issue 11, "metadata the engine learns"): the gateway's time per
 * token must not depend on the logits or on the sampling parameters, so nothing here sorts,
 * stops early or loops a data-dependent number of times. Every call does the same number of
 * passes over all n entries; only the values written change.
 *
 * Order: entries are ranked by logit value, descending, equal values by index, ascending (the
 * order the sampler always used). A *prefix* of that order is what every sampling filter keeps
 * (top-k, top-p, min-p) and what the final draw walks.
 *
 * How a cut is found without sorting: a radix descent on a 64-bit order-preserving key of the
 * logit (8 levels of 8 bits; at each level one pass builds count and mass histograms of the
 * entries still in the candidate group, and a scan of the 256 buckets picks the one where the
 * monotone test first holds), then one pass over the tie group at the exact key, in index
 * order. 9 passes per cut, whatever the data.
 *
 * Mass is exact and therefore independent of the order entries are visited in (the private
 * protocol sees the logits permuted, and must cut at the same place as the plaintext oracle):
 * weights are integers W = floor(w · 2^52), summed as two exact 26-bit halves.
 */

/** Weights are quantised to integers of 52 bits: w = 1 (the top token) is 2^52. */
const WEIGHT_ONE = 2 ** 52;
const HALF = 2 ** 26;
const LEVELS = 8;

/** Element visits of each cut (8 histogram passes and the tie-group pass). */
export const PASSES_PER_CUT = LEVELS + 1;

/** Counts the passes over the vocabulary, so a test can check the work is data-independent. */
export interface WorkMeter {
  /** Total entries visited (passes × n). */
  visits: number;
}

/** A set of entries (a prefix of the order after the first cut) with its count and exact mass. */
export interface PrefixStats {
  count: number;
  /** The exact integer mass as a double (deterministic in the set, whatever the visiting order). */
  mass: number;
}

/** The cut a test chose: the last entry of the smallest prefix that passes, and its stats. */
export interface Cut {
  index: number;
  keyHi: number;
  keyLo: number;
  stats: PrefixStats;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Writes the order-preserving 64-bit key of `value` (larger value, larger key) into hi/lo. */
function orderKey(value: number, keys: Uint32Array, at: number): void {
  scratch.setFloat64(0, value === 0 ? 0 : value); // -0 and +0 compare equal: one key
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  if (hi >>> 31 === 1) {
    keys[2 * at] = ~hi >>> 0;
    keys[2 * at + 1] = ~lo >>> 0;
  } else {
    keys[2 * at] = (hi | 0x80000000) >>> 0;
    keys[2 * at + 1] = lo;
  }
}

/**
 * The vocabulary prepared for fixed-work cuts: order keys, integer weights and membership of
 * the current candidate set. Built in one pass.
 */
export class FixedWorkOrder {
  readonly n: number;
  /** keys[2j], keys[2j+1]: high and low 32 bits of entry j's order key. */
  private readonly keys: Uint32Array;
  private readonly weightHi: Float64Array;
  private readonly weightLo: Float64Array;
  /** 1 while entry j is in the candidate set. */
  readonly member: Uint8Array;
  private readonly histCount = new Float64Array(256);
  private readonly histHi = new Float64Array(256);
  private readonly histLo = new Float64Array(256);

  /**
   * `values` orders the entries (the logits); `weights[j]` in [0, 1] is entry j's unnormalised
   * probability relative to the top entry; `member[j]` = 1 for the entries that may be chosen.
   */
  constructor(values: ArrayLike<number>, weights: Float64Array, member: Uint8Array, private readonly meter?: WorkMeter) {
    const n = values.length;
    this.n = n;
    this.keys = new Uint32Array(2 * n);
    this.weightHi = new Float64Array(n);
    this.weightLo = new Float64Array(n);
    this.member = member;
    for (let j = 0; j < n; j++) {
      orderKey(values[j]!, this.keys, j);
      const w = Math.floor(weights[j]! * WEIGHT_ONE) * member[j]!;
      const hi = Math.floor(w / HALF);
      this.weightHi[j] = hi;
      this.weightLo[j] = w - hi * HALF;
    }
    this.visit();
  }

  /** Count and exact mass of the current candidate set (one pass). */
  stats(): PrefixStats {
    let count = 0;
    let hi = 0;
    let lo = 0;
    for (let j = 0; j < this.n; j++) {
      const m = this.member[j]!;
      count += m;
      hi += this.weightHi[j]! * m;
      lo += this.weightLo[j]! * m;
    }
    this.visit();
    return { count, mass: hi * HALF + lo };
  }

  /**
   * The smallest prefix of the candidates (in value order) for which `test` holds; `test` must
   * be monotone in the prefix (false … false true … true) and hold for the whole set. Always
   * PASSES_PER_CUT passes.
   */
  cut(test: (prefix: PrefixStats) => boolean): Cut {
    const { n, keys, member, weightHi, weightLo, histCount, histHi, histLo } = this;
    let prefHi = 0;
    let prefLo = 0;
    let maskHi = 0;
    let maskLo = 0;
    // Stats of the candidates whose key is above the current group.
    let aboveCount = 0;
    let aboveHi = 0;
    let aboveLo = 0;
    for (let level = 0; level < LEVELS; level++) {
      histCount.fill(0);
      histHi.fill(0);
      histLo.fill(0);
      const shift = 24 - 8 * (level & 3);
      const high = level < 4;
      for (let j = 0; j < n; j++) {
        const kh = keys[2 * j]!;
        const kl = keys[2 * j + 1]!;
        const inGroup = ((kh & maskHi) >>> 0 === prefHi && (kl & maskLo) >>> 0 === prefLo ? 1 : 0) * member[j]!;
        const digit = ((high ? kh : kl) >>> shift) & 255;
        histCount[digit] = histCount[digit]! + inGroup;
        histHi[digit] = histHi[digit]! + weightHi[j]! * inGroup;
        histLo[digit] = histLo[digit]! + weightLo[j]! * inGroup;
      }
      this.visit();
      // Scan the buckets from the top: the first bucket at which the test holds.
      let chosen = -1;
      let c = aboveCount;
      let h = aboveHi;
      let l = aboveLo;
      for (let b = 255; b >= 0; b--) {
        const nc = c + histCount[b]!;
        const nh = h + histHi[b]!;
        const nl = l + histLo[b]!;
        if (chosen < 0 && test({ count: nc, mass: nh * HALF + nl })) {
          chosen = b;
          aboveCount = c;
          aboveHi = h;
          aboveLo = l;
        }
        c = nc;
        h = nh;
        l = nl;
      }
      if (chosen < 0) throw new RangeError('fixed-work cut: the test fails on the whole candidate set');
      if (high) {
        prefHi = (prefHi | (chosen << shift)) >>> 0;
        maskHi = (maskHi | (255 << shift)) >>> 0;
      } else {
        prefLo = (prefLo | (chosen << shift)) >>> 0;
        maskLo = (maskLo | (255 << shift)) >>> 0;
      }
    }
    // The tie group at the exact key, in index order.
    let found = -1;
    let stats: PrefixStats = { count: 0, mass: 0 };
    let c = aboveCount;
    let h = aboveHi;
    let l = aboveLo;
    for (let j = 0; j < n; j++) {
      const inGroup = (keys[2 * j] === prefHi && keys[2 * j + 1] === prefLo ? 1 : 0) * member[j]!;
      c += inGroup;
      h += weightHi[j]! * inGroup;
      l += weightLo[j]! * inGroup;
      if (inGroup === 1 && found < 0) {
        const s = { count: c, mass: h * HALF + l };
        if (test(s)) {
          found = j;
          stats = s;
        }
      }
    }
    this.visit();
    if (found < 0) throw new RangeError('fixed-work cut: no entry in the tie group passes');
    return { index: found, keyHi: prefHi, keyLo: prefLo, stats };
  }

  /** Keeps only the candidates in the prefix that ends at `cut` (one pass). */
  restrictTo(cut: Cut): void {
    const { n, keys, member } = this;
    for (let j = 0; j < n; j++) {
      const kh = keys[2 * j]!;
      const kl = keys[2 * j + 1]!;
      const above = kh > cut.keyHi || (kh === cut.keyHi && kl > cut.keyLo);
      const tied = kh === cut.keyHi && kl === cut.keyLo && j <= cut.index;
      member[j] = member[j]! & (above || tied ? 1 : 0);
    }
    this.visit();
  }

  /** Keeps only the candidates with `keep[j]` = 1 (one pass). */
  restrictWhere(keep: Uint8Array): void {
    for (let j = 0; j < this.n; j++) this.member[j] = this.member[j]! & keep[j]!;
    this.visit();
  }

  /** Indices of the prefix ending at `cut`, in value order (fixed work for a given size). */
  collect(cut: Cut): number[] {
    const { n, keys, member } = this;
    const size = cut.stats.count;
    const out = new Array<number>(size).fill(0);
    let w = 0;
    for (let j = 0; j < n; j++) {
      const kh = keys[2 * j]!;
      const kl = keys[2 * j + 1]!;
      const above = kh > cut.keyHi || (kh === cut.keyHi && kl > cut.keyLo);
      const tied = kh === cut.keyHi && kl === cut.keyLo && j <= cut.index;
      const take = (above || tied ? 1 : 0) * member[j]!;
      out[Math.min(w, size - 1)] = take === 1 ? j : out[Math.min(w, size - 1)]!;
      w += take;
    }
    this.visit();
    // Selection sort: size² comparisons whatever the order (size is at most top_logprobs + 1).
    const before = (a: number, b: number): boolean => {
      const ah = keys[2 * a]!;
      const bh = keys[2 * b]!;
      return ah > bh || (ah === bh && (keys[2 * a + 1]! > keys[2 * b + 1]! || (keys[2 * a + 1] === keys[2 * b + 1] && a < b)));
    };
    for (let i = 0; i < size; i++) {
      let best = i;
      for (let k = i + 1; k < size; k++) best = before(out[k]!, out[best]!) ? k : best;
      const t = out[i]!;
      out[i] = out[best]!;
      out[best] = t;
    }
    return out;
  }

  private visit(): void {
    if (this.meter) this.meter.visits += this.n;
  }
}
