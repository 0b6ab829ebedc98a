/**
 * The causal lower triangle of attention scores and probabilities (issue 12): in the paper's
 * attention mode (Beaver MulKV), only the entries a query may attend to cross the link, so a
 * prefill of T tokens moves H·T(T+1)/2 scores and probabilities instead of H·T², and never more
 * than the triangle's bytes.
 *
 * Layout: [heads, rows, keys] with keys = start + rows; row r of every head keeps its first
 * start + r + 1 entries (the masked rest is −∞ in the scores and exactly 0 in the
 * probabilities, public to both parties). Softmax over a packed row equals the full masked row's
 * bit for bit: its masked terms are exp(−∞) = 0, which add nothing to the sorted sum
 * (fixed-point-elem.ts), and its masked outputs are 0, which unpacking restores.
 */
import { yieldIfDue } from '../../../compute/event-loop-slices.js';
import type { Ring } from '../../../compute/ring64.js';
import { softmaxFixed } from '../../../plaintext/fixed-point/fixed-point-elem.js';
import type { Prg } from '../../../crypto/prg.js';
import { Permutation } from '../../permutations/permutation.js';

export interface CausalShape {
  heads: number;
  rows: number;
  start: number;
}

const rowLength = (s: CausalShape, r: number) => s.start + r + 1;

export function causalSize(s: CausalShape): number {
  return s.heads * (s.rows * (s.start + 1) + (s.rows * (s.rows - 1)) / 2);
}

/** [heads, rows, keys] → the packed triangle. */
export function packCausal(full: Ring, s: CausalShape): Ring {
  const keys = s.start + s.rows;
  const out = new BigUint64Array(causalSize(s));
  let o = 0;
  for (let h = 0; h < s.heads; h++) {
    for (let r = 0; r < s.rows; r++) {
      const n = rowLength(s, r);
      out.set(full.subarray((h * s.rows + r) * keys, (h * s.rows + r) * keys + n), o);
      o += n;
    }
  }
  return out;
}

/** The packed triangle → [heads, rows, keys] with zeros above it. */
export function unpackCausal(packed: Ring, s: CausalShape): Ring {
  const keys = s.start + s.rows;
  const out = new BigUint64Array(s.heads * s.rows * keys);
  let o = 0;
  for (let h = 0; h < s.heads; h++) {
    for (let r = 0; r < s.rows; r++) {
      const n = rowLength(s, r);
      out.set(packed.subarray(o, o + n), (h * s.rows + r) * keys);
      o += n;
    }
  }
  return out;
}

/** Offsets of each packed row ([heads·rows + 1]). */
function rowOffsets(s: CausalShape): Uint32Array {
  const off = new Uint32Array(s.heads * s.rows + 1);
  for (let h = 0; h < s.heads; h++) for (let r = 0; r < s.rows; r++) off[h * s.rows + r + 1] = off[h * s.rows + r]! + rowLength(s, r);
  return off;
}

/**
 * The softmax permutation of the packed triangle: each row's entries permuted, and rows of the
 * same length (the same query row across heads) permuted among themselves, so the user still
 * cannot tell which head a row comes from; a row's length is its position, which the user knows.
 */
export function drawCausalPermutation(prg: Prg, s: CausalShape): Permutation {
  const off = rowOffsets(s);
  const dest = new Uint32Array(causalSize(s));
  for (let r = 0; r < s.rows; r++) {
    const headDest = prg.permutation(s.heads);
    for (let h = 0; h < s.heads; h++) drawCausalRow(prg, s, off, dest, headDest, r, h);
  }
  return Permutation.fromDestinations(dest);
}

/**
 * drawCausalPermutation in slices (protocol/subprotocols/ring/ring-slices.ts): the same draws in
 * the same order, yielding between (query row, head) units when the slice is due, so the
 * permutation of a long prefill chunk's triangle (8 heads × 32 rows × ~500 keys: some 10 ms in
 * one piece) never holds the event loop at once. Bit for bit the synchronous draw.
 */
export async function drawCausalPermutationInSlices(prg: Prg, s: CausalShape): Promise<Permutation> {
  const off = rowOffsets(s);
  const dest = new Uint32Array(causalSize(s));
  for (let r = 0; r < s.rows; r++) {
    const headDest = prg.permutation(s.heads);
    for (let h = 0; h < s.heads; h++) {
      await yieldIfDue();
      drawCausalRow(prg, s, off, dest, headDest, r, h);
    }
  }
  await yieldIfDue();
  return Permutation.fromDestinations(dest);
}

/** Packed row (h, r): its entries' permutation, to the slot of head headDest[h] in query row r. */
function drawCausalRow(prg: Prg, s: CausalShape, off: Uint32Array, dest: Uint32Array, headDest: Uint32Array, r: number, h: number): void {
  const cols = prg.permutation(rowLength(s, r));
  const from = off[h * s.rows + r]!;
  const to = off[headDest[h]! * s.rows + r]!;
  for (let c = 0; c < cols.length; c++) dest[from + c] = to + cols[c]!;
}

/**
 * Where each packed row goes under a causal permutation (drawCausalPermutation): out[t] is the
 * permuted row index of row t = h·rows + r (a row stays within its query row r; only its head
 * slot moves).
 */
export function causalRowDestinations(p: Permutation, s: CausalShape): Uint32Array {
  const off = rowOffsets(s);
  const n = s.heads * s.rows;
  if (p.length !== off[n]) throw new RangeError(`causal rows: permutation of ${p.length}, expected ${off[n]}`);
  const rowAt = new Uint32Array(off[n]!);
  for (let t = 0; t < n; t++) rowAt.fill(t, off[t]!, off[t + 1]!);
  const out = new Uint32Array(n);
  for (let t = 0; t < n; t++) out[t] = rowAt[p.dest[off[t]!]!]!;
  return out;
}

/** Offsets of each packed row ([heads·rows + 1]): row t = h·rows + r holds entries off[t] … off[t+1] − 1. */
export const causalRowOffsets = (s: CausalShape): Uint32Array => rowOffsets(s);

/** Softmax of scale · x over each packed row (the user's step on its permuted view). */
export function softmaxCausal(view: Ring, s: CausalShape, scale: number, inExp: number, outExp: number, softcap?: number): Ring {
  const off = rowOffsets(s);
  const out = new BigUint64Array(view.length);
  softmaxCausalRows(view, off, out, 0, s.heads * s.rows, scale, inExp, outExp, softcap);
  return out;
}

/**
 * softmaxCausal in slices: blocks of whole packed rows of about CAUSAL_SLICE_ELEMENTS entries,
 * yielding between blocks when the slice is due (the user's softmax over a long prefill chunk's
 * triangle is some 20 ms on one core in one piece). Every row depends on its own entries only,
 * so the result is bit for bit softmaxCausal's.
 */
export async function softmaxCausalInSlices(view: Ring, s: CausalShape, scale: number, inExp: number, outExp: number, softcap?: number): Promise<Ring> {
  const off = rowOffsets(s);
  const out = new BigUint64Array(view.length);
  const rows = s.heads * s.rows;
  for (let i = 0; i < rows; ) {
    let j = i + 1;
    while (j < rows && off[j + 1]! - off[i]! <= CAUSAL_SLICE_ELEMENTS) j++;
    softmaxCausalRows(view, off, out, i, j, scale, inExp, outExp, softcap);
    i = j;
    if (i < rows) await yieldIfDue();
  }
  return out;
}

/** Entries per block of softmaxCausalInSlices (at least one whole row): a few milliseconds at most. */
export const CAUSAL_SLICE_ELEMENTS = 4096;

function softmaxCausalRows(view: Ring, off: Uint32Array, out: Ring, first: number, end: number, scale: number, inExp: number, outExp: number, softcap?: number): void {
  for (let i = first; i < end; i++) {
    const from = off[i]!;
    const n = off[i + 1]! - from;
    out.set(softmaxFixed(view.subarray(from, from + n), 1, n, scale, inExp, outExp, softcap), from);
  }
}
