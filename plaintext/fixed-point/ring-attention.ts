/**
 * The attention products of the `ring64` profile as bilinear maps over Z_2^64, shared by the
 * fixed-point oracle and the private protocol's Beaver products (MulKV): both evaluate exactly
 * these functions, so the private result equals the oracle's bit for bit.
 *
 * RoPE is folded into the scores: score(m, n) = q_m · R_int(p_n − p_m) k_n, where R_int(d) is
 * the rotation by d·θ_i of each pair (2i, 2i+1) with integer coefficients round(cos · 2^b),
 * round(sin · 2^b). This is bilinear in (K, Q) with integer coefficients, so shares and Beaver
 * masks pass through it exactly, and the rotation costs b bits of the budget once (rotating q
 * and k separately would cost 2b). q and k are kept unrotated (the K memory holds raw rows).
 */
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { ringLinearRing, ringMatmulRing } from '../../compute/ring-gemm.js';
import { yieldIfDue } from '../../compute/event-loop-slices.js';
import { combineLimbs, words, type Ring } from '../../compute/ring64.js';
import type { ModelConfig } from '../../model/model-description.js';
import { ropeDependsOnPosition, ropeFrequencies } from '../../model/rope-scaling.js';

/** A model whose RoPE the ring profile cannot fold into the scores (see RingRope.forConfig). */
export class UnsupportedRingRopeError extends Error {
  override readonly name = 'UnsupportedRingRopeError';
}

export interface RingAttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
}

/** The ring element −2^62 that P0 (and the oracle) adds to causally masked scores. */
export const CAUSAL_MASK_RING = (1n << 64n) - (1n << 62n);

/** Integer RoPE coefficients for relative distances −(maxSeqLen−1) … maxSeqLen−1. */
/** @throws UnsupportedRingRopeError when the model's RoPE cannot be folded into the scores (RingRope.forConfig). */
export function assertRingRope(config: Pick<ModelConfig, 'ropeScaling'>): void {
  if (ropeDependsOnPosition(config.ropeScaling)) {
    throw new UnsupportedRingRopeError(`ring64: ${config.ropeScaling!.type} RoPE scaling depends on the position itself, so it cannot be folded into the scores' bilinear form; serve this model with --profile permllm-f64`);
  }
}

export class RingRope {
  readonly cos: Int32Array;
  readonly sin: Int32Array;
  readonly half: number;

  /**
   * The model's rotation (its ropeTheta, ropeScaling and rotaryDim, as RopeTable uses them).
   * Folding RoPE into the scores needs the angle to depend on the distance n − m alone, which
   * holds for plain, linear, llama3 and yarn RoPE (fixed frequencies, yarn's attention factor
   * applied to both q and k, so af² here) but not for dynamic or longrope scaling, whose
   * frequencies follow the position itself: those are refused.
   */
  static forConfig(config: Pick<ModelConfig, 'headDim' | 'maxSeqLen' | 'ropeTheta' | 'ropeScaling' | 'rotaryDim'>, bits: number): RingRope {
    const rotaryDim = config.rotaryDim ?? config.headDim;
    assertRingRope(config);
    const f = ropeFrequencies(rotaryDim, config.ropeTheta, config.ropeScaling, 0);
    return new RingRope(config.headDim, config.maxSeqLen, f.inverse, f.attentionFactor ** 2, bits);
  }

  private constructor(
    readonly headDim: number,
    readonly maxSeqLen: number,
    /** Inverse frequencies of the rotating pairs; pairs beyond them do not rotate. */
    inverse: Float64Array,
    /** What the rotation multiplies each score by (yarn's attention factor, squared). */
    gain: number,
    readonly bits: number,
  ) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 15) throw new RangeError(`RingRope bits: must be an integer in [1, 15], got ${bits}`);
    this.half = headDim / 2;
    const span = 2 * maxSeqLen - 1;
    this.cos = new Int32Array(span * this.half);
    this.sin = new Int32Array(span * this.half);
    const scale = 2 ** bits;
    for (let j = 0; j < span; j++) {
      const d = j - (maxSeqLen - 1);
      for (let i = 0; i < this.half; i++) {
        if (i >= inverse.length) {
          this.cos[j * this.half + i] = scale;
          continue;
        }
        const angle = d * inverse[i]!;
        this.cos[j * this.half + i] = Math.round(gain * Math.cos(angle) * scale);
        this.sin[j * this.half + i] = Math.round(gain * Math.sin(angle) * scale);
      }
    }
  }

  /** K rows [keys, heads·headDim] each rotated by R_int(n − position): what query row `position` is scored against. */
  rotateKeysFor(position: number, K: Ring, keys: number, heads: number): Ring {
    const width = heads * this.headDim;
    if (K.length !== keys * width) throw new RangeError(`RingRope: K has ${K.length} elements, expected ${keys}x${width}`);
    const out = new BigUint64Array(K.length);
    const x = words(K);
    const z = words(out);
    for (let n = 0; n < keys; n++) {
      const d = n - position;
      if (d <= -this.maxSeqLen || d >= this.maxSeqLen) throw new RangeError(`RingRope: distance ${d} outside the table`);
      const base = (d + this.maxSeqLen - 1) * this.half;
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < this.half; i++) {
          const c = this.cos[base + i]!;
          const s = this.sin[base + i]!;
          const ia = n * width + h * this.headDim + 2 * i;
          const aLo = x[2 * ia]!;
          const aHi = x[2 * ia + 1]!;
          const bLo = x[2 * ia + 2]!;
          const bHi = x[2 * ia + 3]!;
          const a0 = aLo & 0xffff, a1 = aLo >>> 16, a2 = aHi & 0xffff, a3 = aHi >>> 16;
          const b0 = bLo & 0xffff, b1 = bLo >>> 16, b2 = bHi & 0xffff, b3 = bHi >>> 16;
          // (a, b) → (a·c − b·s, a·s + b·c), limb by limb (|limb · coefficient| < 2^31).
          combineLimbs(z, ia, a0 * c - b0 * s, a1 * c - b1 * s, a2 * c - b2 * s, a3 * c - b3 * s);
          combineLimbs(z, ia + 1, a0 * s + b0 * c, a1 * s + b1 * c, a2 * s + b2 * c, a3 * s + b3 * c);
        }
      }
    }
    return out;
  }
}

/** Head h's columns of x[rows, width] as [rows, headDim] (copied as 32-bit words: no subarray per row). */
function gatherHead(x: Ring, rows: number, width: number, h: number, headDim: number, into?: Ring, rowOffset = 0): Ring {
  const out = into ?? new BigUint64Array(rows * headDim);
  const src = words(x);
  const dst = words(out);
  const span = 2 * headDim;
  for (let r = 0; r < rows; r++) {
    const s = 2 * (r * width + h * headDim);
    const d = 2 * (rowOffset + r) * headDim;
    for (let i = 0; i < span; i++) dst[d + i] = src[s + i]!;
  }
  return out;
}

/**
 * Scores f(K, Q)[h, r, n] = Q[r, head h] · R_int(n − (start + r)) K[n, head g(h)] (GQA:
 * g(h) = ⌊h / (nHeads/nKvHeads)⌋), laid out [nHeads, rows, keys]. Keys are positions 0..keys−1.
 */
export async function ringAttentionScores(backend: ComputeBackend, s: RingAttentionShape, rope: RingRope, K: Ring, keys: number, Q: Ring, rows: number, start: number): Promise<Ring> {
  const group = s.nHeads / s.nKvHeads;
  const qWidth = s.nHeads * s.headDim;
  const kvWidth = s.nKvHeads * s.headDim;
  const out = new BigUint64Array(s.nHeads * rows * keys);
  for (let r = 0; r < rows; r++) {
    await yieldIfDue(); // one query row per unit: the rows × keys work would otherwise hold the event loop (compute/event-loop-slices.ts)
    const rotated = rope.rotateKeysFor(start + r, K, keys, s.nKvHeads);
    const qRow = Q.subarray(r * qWidth, (r + 1) * qWidth);
    for (let g = 0; g < s.nKvHeads; g++) {
      const Kg = gatherHead(rotated, keys, kvWidth, g, s.headDim);
      const Qg = qRow.subarray(g * group * s.headDim, (g + 1) * group * s.headDim); // heads g·group … contiguous
      const Sg = await ringLinearRing(backend, Qg, group, Kg, keys, s.headDim); // [group, keys]
      for (let j = 0; j < group; j++) out.set(Sg.subarray(j * keys, (j + 1) * keys), ((g * group + j) * rows + r) * keys);
    }
  }
  return out;
}

/** f(V, P) = per head h, P_h · V_{g(h)}: V [keys, kvWidth], P [nHeads, rows, keys] → [rows, nHeads·headDim]. */
export async function ringAttentionValues(backend: ComputeBackend, s: RingAttentionShape, V: Ring, keys: number, P: Ring, rows: number): Promise<Ring> {
  const group = s.nHeads / s.nKvHeads;
  const width = s.nHeads * s.headDim;
  const out = new BigUint64Array(rows * width);
  for (let g = 0; g < s.nKvHeads; g++) {
    await yieldIfDue();
    const Vg = gatherHead(V, keys, s.nKvHeads * s.headDim, g, s.headDim);
    const Pg = P.subarray(g * group * rows * keys, (g + 1) * group * rows * keys);
    const Og = await ringMatmulRing(backend, Pg, group * rows, keys, Vg, s.headDim);
    for (let j = 0; j < group; j++) {
      const h = g * group + j;
      for (let r = 0; r < rows; r++) out.set(Og.subarray((j * rows + r) * s.headDim, (j * rows + r + 1) * s.headDim), r * width + h * s.headDim);
    }
  }
  return out;
}

/** Adds the causal mask (−2^62) to scores [heads, rows, keys] for query positions start…, in place. */
export function addCausalMask(scores: Ring, heads: number, rows: number, keys: number, start: number): void {
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < rows; r++) {
      const base = (h * rows + r) * keys;
      for (let k = start + r + 1; k < keys; k++) scores[base + k] = BigInt.asUintN(64, scores[base + k]! + CAUSAL_MASK_RING);
    }
  }
}
