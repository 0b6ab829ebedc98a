/**
 * Rotary position embedding in the model contract's layout: each head's interleaved pairs
 * (2i, 2i+1) rotate by the angle p·f_i at position p, with f_i = θ^(−2i/headDim) for plain RoPE
 * or the scaled frequencies of model/rope-scaling.ts (linear, dynamic, llama3, yarn; YaRN also
 * multiplies cos and sin by its attention factor). It is a fixed linear map per position, so in
 * the private protocol each party applies it to its own share (local step).
 */
import type { ModelConfig } from '../../model/model-description.js';
import { ropeDependsOnPosition, ropeFrequencies, type RopeScaling } from '../../model/rope-scaling.js';
import type { FloatArray } from './float-array.js';

/** cos/sin of every (position, pair) angle, computed once per model instead of per token. */
export class RopeTable {
  /** cos[p * half + i] for position p and pair i (half = headDim / 2). */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly half: number;

  /** The model's table (its ropeTheta and ropeScaling): what the oracle and every party use. */
  static forConfig(config: ModelConfig): RopeTable {
    return new RopeTable(config.headDim, config.maxSeqLen, config.ropeTheta, config.ropeScaling, config.rotaryDim);
  }

  constructor(
    readonly headDim: number,
    readonly maxSeqLen: number,
    readonly theta: number,
    readonly scaling?: RopeScaling,
    /** Partial rotary embedding: only the first rotaryDim/2 pairs rotate; the others are identity (cos 1, sin 0). */
    readonly rotaryDim: number = headDim,
  ) {
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new RangeError(`RopeTable headDim: must be a positive even integer, got ${headDim}`);
    if (!Number.isInteger(maxSeqLen) || maxSeqLen <= 0) throw new RangeError(`RopeTable maxSeqLen: must be a positive integer, got ${maxSeqLen}`);
    if (!(theta > 0)) throw new RangeError(`RopeTable theta: must be positive, got ${theta}`);
    this.half = headDim / 2;
    this.cos = new Float64Array(maxSeqLen * this.half);
    this.sin = new Float64Array(maxSeqLen * this.half);
    if (!Number.isInteger(rotaryDim) || rotaryDim <= 0 || rotaryDim % 2 !== 0 || rotaryDim > headDim) throw new RangeError(`RopeTable rotaryDim: must be an even integer in 2..${headDim}, got ${rotaryDim}`);
    const rotating = rotaryDim / 2;
    this.cos.fill(1);
    let f = ropeFrequencies(rotaryDim, theta, scaling, 0);
    const perPosition = ropeDependsOnPosition(scaling);
    for (let p = 0; p < maxSeqLen; p++) {
      if (perPosition) f = ropeFrequencies(rotaryDim, theta, scaling, p);
      for (let i = 0; i < rotating; i++) {
        const angle = p * f.inverse[i]!;
        this.cos[p * this.half + i] = f.attentionFactor * Math.cos(angle);
        this.sin[p * this.half + i] = f.attentionFactor * Math.sin(angle);
      }
    }
  }

  /**
   * Rotates, in place, `nHeads` consecutive heads starting at x[offset] for `position`
   * (direction −1 rotates backwards: the inverse when the attention factor is 1).
   */
  rotate(x: FloatArray, offset: number, nHeads: number, position: number, direction: 1 | -1 = 1): void {
    if (!Number.isInteger(position) || position < 0 || position >= this.maxSeqLen) throw new RangeError(`RoPE position ${position} outside [0, ${this.maxSeqLen})`);
    if (offset + nHeads * this.headDim > x.length) throw new RangeError(`RoPE: ${nHeads} heads at offset ${offset} exceed the array (${x.length} elements)`);
    const base = position * this.half;
    for (let h = 0; h < nHeads; h++) {
      const head = offset + h * this.headDim;
      for (let i = 0; i < this.half; i++) {
        const c = this.cos[base + i]!;
        const s = direction * this.sin[base + i]!;
        const a = x[head + 2 * i]!;
        const b = x[head + 2 * i + 1]!;
        x[head + 2 * i] = a * c - b * s;
        x[head + 2 * i + 1] = a * s + b * c;
      }
    }
  }

  /** Rotates each row r of x[rows, nHeads·headDim], in place, for position startPos + r. */
  rotateRows(x: FloatArray, rows: number, nHeads: number, startPos: number): void {
    const width = nHeads * this.headDim;
    if (x.length !== rows * width) throw new RangeError(`RoPE rows: expected ${rows}x${width} = ${rows * width} elements, got ${x.length}`);
    for (let r = 0; r < rows; r++) this.rotate(x, r * width, nHeads, startPos + r);
  }
}
