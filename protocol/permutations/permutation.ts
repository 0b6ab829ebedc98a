/**
 * Secret permutations for Perm / Elem (protocol.md, "Elem"). A permutation π of n positions is
 * stored as `dest`: element i of the input goes to position dest[i] of the output, so
 * apply(π, x)[dest[i]] = x[i] and invert(π, y)[i] = y[dest[i]].
 *
 * Shapes follow the nonlinear function, which must commute with π:
 * - flat: one permutation of all elements (element-wise f);
 * - row-wise: a permutation of the rows, and an independent permutation of each row's columns
 *   (softmax, RMSNorm: f acts per row and is symmetric in the row's entries);
 * - paired: one flat permutation applied to two tensors of the same shape (SwiGLU silu(g)⊙u).
 * Every permutation is drawn fresh per call from a PRG keyed by k02 (P0 and the dealer).
 */
import type { Prg } from '../../crypto/prg.js';

export type PermutationShape = { kind: 'flat'; length: number } | { kind: 'row-wise'; rows: number; cols: number };

export class Permutation {
  private constructor(readonly dest: Uint32Array) {}

  get length(): number {
    return this.dest.length;
  }

  static fromDestinations(dest: Uint32Array): Permutation {
    const seen = new Uint8Array(dest.length);
    for (const d of dest) {
      if (d >= dest.length || seen[d]) throw new RangeError('permutation: destinations are not a bijection');
      seen[d] = 1;
    }
    return new Permutation(dest);
  }

  /** Draws a permutation of the given shape. */
  static draw(prg: Prg, shape: PermutationShape): Permutation {
    if (shape.kind === 'flat') return new Permutation(prg.permutation(shape.length));
    const { rows, cols } = shape;
    const rowDest = prg.permutation(rows);
    const dest = new Uint32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const colDest = prg.permutation(cols);
      const base = rowDest[r]! * cols;
      for (let c = 0; c < cols; c++) dest[r * cols + c] = base + colDest[c]!;
    }
    return new Permutation(dest);
  }

  /** π(x). `x.length` must be a multiple of the permutation's length (paired: the same π on each block). */
  apply<T extends Float64Array | BigUint64Array>(x: T): T {
    const out = this.outputFor(x, 'apply');
    this.applyRange(x, out, 0, x.length);
    return out;
  }

  /** π⁻¹(y). */
  invert<T extends Float64Array | BigUint64Array>(y: T): T {
    const out = this.outputFor(y, 'invert');
    this.invertRange(y, out, 0, y.length);
    return out;
  }

  /** A zeroed output of x's type and length, after checking the length. */
  outputFor<T extends Float64Array | BigUint64Array>(x: T, what: string): T {
    const n = this.dest.length;
    if (x.length % n !== 0) throw new RangeError(`permutation ${what}: length ${x.length} is not a multiple of ${n}`);
    return (x instanceof BigUint64Array ? new BigUint64Array(x.length) : new Float64Array(x.length)) as T;
  }

  /**
   * The part of apply(x) that moves input elements from … to − 1 into `out` (a range of the
   * flat, possibly paired, input): applying every range of a partition of 0 … x.length gives
   * apply(x) exactly, which is how the protocol slices a large π (protocol/subprotocols/ring/ring-slices.ts).
   */
  applyRange<T extends Float64Array | BigUint64Array>(x: T, out: T, from: number, to: number): void {
    const n = this.dest.length;
    const dest = this.dest;
    for (let i = from; i < to; ) {
      const b = i - (i % n);
      const end = Math.min(to, b + n);
      for (let k = i - b; i < end; i++, k++) out[b + dest[k]!] = x[i]!;
    }
  }

  /** The part of invert(y) that fills output elements from … to − 1 (see applyRange). */
  invertRange<T extends Float64Array | BigUint64Array>(y: T, out: T, from: number, to: number): void {
    const n = this.dest.length;
    const dest = this.dest;
    for (let i = from; i < to; ) {
      const b = i - (i % n);
      const end = Math.min(to, b + n);
      for (let k = i - b; i < end; i++, k++) out[i] = y[b + dest[k]!]!;
    }
  }
}
