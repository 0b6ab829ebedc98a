/**
 * RoPE as a position-wise linear map on ring64 rows, for the single-view attention mode: the
 * engine and the user each rotate their own share of q and k, so the user's permuted view holds
 * q and k already rotated (RoPE before permuting, issue 12). Each pair (2i, 2i+1) of a head at
 * absolute position p turns by p·θ_i with integer coefficients round(g · cos · 2^b),
 * round(g · sin · 2^b) (g: yarn's attention factor, once per operand), so the map has integer
 * coefficients and commutes with the sharing exactly: rot(x0) + rot(x1) = rot(x) mod 2^64. The
 * output sits b bits above the input. Scaling whose frequencies follow the position itself is
 * refused as in the folded form (assertRingRope).
 */
import { combineLimbs, words, type Ring } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { ropeFrequencies } from '../../model/rope-scaling.js';
import { assertRingRope } from './ring-attention.js';

export class RingAbsoluteRope {
  private readonly cos: Int32Array;
  private readonly sin: Int32Array;
  private readonly half: number;

  constructor(
    config: Pick<ModelConfig, 'headDim' | 'maxSeqLen' | 'ropeTheta' | 'ropeScaling' | 'rotaryDim'>,
    readonly bits: number,
  ) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 15) throw new RangeError(`RingAbsoluteRope bits: must be an integer in [1, 15], got ${bits}`);
    assertRingRope(config);
    this.headDim = config.headDim;
    this.half = config.headDim / 2;
    this.maxSeqLen = config.maxSeqLen;
    const f = ropeFrequencies(config.rotaryDim ?? config.headDim, config.ropeTheta, config.ropeScaling, 0);
    const scale = 2 ** bits;
    this.cos = new Int32Array(config.maxSeqLen * this.half);
    this.sin = new Int32Array(config.maxSeqLen * this.half);
    for (let p = 0; p < config.maxSeqLen; p++) {
      for (let i = 0; i < this.half; i++) {
        if (i >= f.inverse.length) {
          this.cos[p * this.half + i] = scale;
          continue;
        }
        const angle = p * f.inverse[i]!;
        this.cos[p * this.half + i] = Math.round(f.attentionFactor * Math.cos(angle) * scale);
        this.sin[p * this.half + i] = Math.round(f.attentionFactor * Math.sin(angle) * scale);
      }
    }
  }
  readonly headDim: number;
  readonly maxSeqLen: number;

  /** Rows [rows, heads·headDim] at positions start…start+rows−1, each rotated by its position. */
  rotateRows(x: Ring, rows: number, heads: number, start: number): Ring {
    const width = heads * this.headDim;
    if (x.length !== rows * width) throw new RangeError(`RingAbsoluteRope: ${x.length} elements, expected ${rows}x${width}`);
    if (start < 0 || start + rows > this.maxSeqLen) throw new RangeError(`RingAbsoluteRope: positions ${start}..${start + rows - 1} outside the table`);
    const out = new BigUint64Array(x.length);
    const a = words(x);
    const z = words(out);
    for (let r = 0; r < rows; r++) {
      const base = (start + r) * this.half;
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < this.half; i++) {
          const c = this.cos[base + i]!;
          const s = this.sin[base + i]!;
          const ia = r * width + h * this.headDim + 2 * i;
          const aLo = a[2 * ia]!, aHi = a[2 * ia + 1]!, bLo = a[2 * ia + 2]!, bHi = a[2 * ia + 3]!;
          const a0 = aLo & 0xffff, a1 = aLo >>> 16, a2 = aHi & 0xffff, a3 = aHi >>> 16;
          const b0 = bLo & 0xffff, b1 = bLo >>> 16, b2 = bHi & 0xffff, b3 = bHi >>> 16;
          combineLimbs(z, ia, a0 * c - b0 * s, a1 * c - b1 * s, a2 * c - b2 * s, a3 * c - b3 * s);
          combineLimbs(z, ia + 1, a0 * s + b0 * c, a1 * s + b1 * c, a2 * s + b2 * c, a3 * s + b3 * c);
        }
      }
    }
    return out;
  }
}
