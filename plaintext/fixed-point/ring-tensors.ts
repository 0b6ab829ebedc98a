/**
 * Small ring-tensor helpers shared by the fixed-point oracle and the private `ring64` program:
 * column slices, the one-hot input, biases at a MulW output's exponents. One definition each,
 * so both sides build the very same integers.
 */
import { encodeFixed, ringPowerOfTwo, type Ring } from '../../compute/ring64.js';
import { rowExponent, type WeightBlock } from '../../model/fixed-point/fixed-point-weights.js';

/** Columns [from, from + width) of every row of x[rows, stride]. */
export function ringColumns(x: Ring, rows: number, stride: number, from: number, width: number): Ring {
  const out = new BigUint64Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * stride + from, r * stride + from + width), r * width);
  return out;
}

/** [rows, gate|up] → [gate rows…][up rows…] (the paired SwiGLU input). */
export function ringGateUpBlocks(x: Ring, rows: number, hidden: number): Ring {
  const out = new BigUint64Array(2 * rows * hidden);
  out.set(ringColumns(x, rows, 2 * hidden, 0, hidden), 0);
  out.set(ringColumns(x, rows, 2 * hidden, hidden, hidden), rows * hidden);
  return out;
}

/** The user's one-hot rows, each holding 2^exponent at its token (so X·onehot lands at the residual exponent). */
export function ringOnehot(tokens: readonly number[], vocabSize: number, exponent: number): Ring {
  const out = new BigUint64Array(tokens.length * vocabSize);
  const one = ringPowerOfTwo(exponent);
  tokens.forEach((t, r) => {
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw new RangeError(`token ${t} outside the vocabulary`);
    out[r * vocabSize + t] = one;
  });
  return out;
}

/** A bias row at the exponents of a MulW output: column o at inExp + exponent of weight row o. */
export function ringBias(bias: Float64Array, blocks: readonly WeightBlock[], inExp: number): Ring {
  const out = new BigUint64Array(bias.length);
  for (let o = 0; o < bias.length; o++) out.set(encodeFixed([bias[o]!], inExp + rowExponent({ blocks }, o)), o);
  return out;
}

/** Adds a bias row to every row of y[rows, width], in place. */
export function addBiasRows(y: Ring, rows: number, bias: Ring): void {
  const width = bias.length;
  for (let r = 0; r < rows; r++) for (let o = 0; o < width; o++) y[r * width + o] = BigInt.asUintN(64, y[r * width + o]! + bias[o]!);
}
