/**
 * The vocabulary as an implicit byte trie: token ids sorted by their bytes, so that tokens
 * sharing a prefix sit in one contiguous range. Walking it with a grammar state visits each
 * shared prefix once and skips a whole range as soon as its prefix is rejected; in structural
 * positions that is a few hundred byte steps for a 150k-token vocabulary.
 */
import type { Tokenizer } from '../../model/tokenizer.js';

export class VocabularyIndex {
  /** Token ids with at least one byte, sorted by bytes. */
  private readonly order: Int32Array;
  readonly bytes: readonly Uint8Array[];
  readonly vocabSize: number;

  constructor(tokenizer: Tokenizer) {
    if (tokenizer.tokenBytes === undefined) throw new RangeError('this tokenizer cannot report token bytes');
    const bytes: Uint8Array[] = [];
    const ids: number[] = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const b = tokenizer.tokenBytes(id);
      bytes.push(b);
      if (b.length > 0) ids.push(id);
    }
    ids.sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!));
    this.order = Int32Array.from(ids);
    this.bytes = bytes;
    this.vocabSize = tokenizer.vocabSize;
  }

  /** The token that is exactly this one byte, if the vocabulary has one (byte-level BPE and byte fallback do). */
  byteToken(byte: number): number | undefined {
    this.single ??= this.singleByteTokens();
    const id = this.single[byte]!;
    return id < 0 ? undefined : id;
  }

  private single: Int32Array | undefined;

  private singleByteTokens(): Int32Array {
    const table = new Int32Array(256).fill(-1);
    for (const id of this.order) {
      const b = this.bytes[id]!;
      if (b.length === 1 && table[b[0]!]! < 0) table[b[0]!] = id;
    }
    return table;
  }

  /** Ids whose bytes are exactly `text`'s bytes (for checks and tests). */
  idsOf(target: Uint8Array): number[] {
    const out: number[] = [];
    for (const id of this.order) if (Buffer.compare(this.bytes[id]!, target) === 0) out.push(id);
    return out;
  }

  /**
   * Depth-first walk: `step(state, byte)` returns the state after one more byte, or undefined
   * when the byte is not allowed; `emit(id, state)` is called for every token all of whose
   * bytes are allowed, with the state after them.
   */
  walk<S>(initial: S, step: (state: S, byte: number) => S | undefined, emit: (id: number, state: S) => void): void {
    this.walkRange(0, this.order.length, 0, initial, step, emit);
  }

  private walkRange<S>(lo: number, hi: number, depth: number, state: S, step: (state: S, byte: number) => S | undefined, emit: (id: number, state: S) => void): void {
    const { order, bytes } = this;
    let i = lo;
    // Sorted order puts a token that ends here before every longer token with its prefix.
    while (i < hi && bytes[order[i]!]!.length === depth) emit(order[i++]!, state);
    while (i < hi) {
      const b = bytes[order[i]!]![depth]!;
      const end = this.groupEnd(i, hi, depth, b);
      const next = step(state, b);
      if (next !== undefined) this.walkRange(i, end, depth + 1, next, step, emit);
      i = end;
    }
  }

  /** First index in [from, hi) whose byte at `depth` is greater than `b` (binary search). */
  private groupEnd(from: number, hi: number, depth: number, b: number): number {
    const { order, bytes } = this;
    let lo = from + 1;
    let top = hi;
    while (lo < top) {
      const mid = (lo + top) >>> 1;
      if (bytes[order[mid]!]![depth]! > b) top = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
