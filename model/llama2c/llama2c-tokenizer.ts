/**
 * The llama2.c tokenizer (`tokenizer.bin` / `tok<N>.bin`): a sentencepiece BPE vocabulary
 * exported as int32 max_token_length, then per token a float32 merge score, an int32 byte
 * length and the bytes. Encoding and decoding follow llama2.c's `run.c` exactly, so token ids
 * match what the checkpoint was trained on.
 *
 * Pieces are byte strings (some are not valid UTF-8 on their own), so internally every piece
 * is held as a "binary string": one JS char per byte (latin1). That keeps lookups and the
 * concatenations of the merge loop byte-exact.
 */
import { readFile } from 'node:fs/promises';
import type { Tokenizer } from '../tokenizer.js';
import { ModelLoadError } from '../model-errors.js';

export const LLAMA2C_BOS = 1;
export const LLAMA2C_EOS = 2;
/** Byte b is token b + 3 (sentencepiece byte fallback `<0xXX>`). */
const BYTE_TOKEN_OFFSET = 3;

const byteTokenPattern = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextDecoder('utf-8');

/** Length of a trailing UTF-8 sequence that is incomplete so far (0 when none). */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  // A sequence is at most 4 bytes, so only the last 3 bytes can start an incomplete one.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf8 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId = LLAMA2C_BOS;
  readonly eosIds: ReadonlySet<number> = new Set([LLAMA2C_EOS]);
  /** Pieces as binary strings (one char per byte). */
  private readonly pieces: string[];
  private readonly scores: Float32Array;
  private readonly lookup = new Map<string, number>();
  /** The bytes each token contributes to decoded text (byte tokens map to their raw byte). */
  private readonly pieceBytes: Uint8Array[];
  /** The longest piece in bytes: every token covers at most this much of the (dummy-prefixed) text. */
  readonly maxBytesPerToken: number;

  /**
   * @param pieces token byte strings, index = id
   * @param scores merge scores (higher merges first)
   * @param source file name for error messages
   */
  constructor(pieces: Uint8Array[], scores: Float32Array, readonly source = '<memory>') {
    if (pieces.length !== scores.length) throw new ModelLoadError(source, `tokenizer has ${pieces.length} pieces but ${scores.length} scores`);
    if (pieces.length < BYTE_TOKEN_OFFSET + 256) throw new ModelLoadError(source, `tokenizer has ${pieces.length} tokens; a llama2.c tokenizer needs at least ${BYTE_TOKEN_OFFSET + 256} (3 control tokens and 256 byte tokens)`);
    this.vocabSize = pieces.length;
    this.scores = scores;
    this.pieces = pieces.map((p) => Buffer.from(p).toString('latin1'));
    for (let b = 0; b < 256; b++) {
      const expected = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      const actual = this.pieces[b + BYTE_TOKEN_OFFSET];
      if (actual !== expected) throw new ModelLoadError(source, `token ${b + BYTE_TOKEN_OFFSET} is ${JSON.stringify(actual)}, expected byte-fallback token ${expected}: not a llama2.c sentencepiece tokenizer`);
    }
    // First occurrence wins, like a binary search over llama2.c's sorted vocabulary would
    // find *a* match; sentencepiece vocabularies have no duplicates anyway.
    this.pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
    });
    this.pieceBytes = pieces.map((p, id) => {
      const m = byteTokenPattern.exec(this.pieces[id]!);
      return m ? Uint8Array.of(Number.parseInt(m[1]!, 16)) : p;
    });
    this.maxBytesPerToken = this.pieceBytes.reduce((longest, bytes) => Math.max(longest, bytes.length), 1);
  }

  /** Parses a tokenizer file for a model with `vocabSize` tokens. */
  static async load(file: string, vocabSize: number): Promise<Llama2cTokenizer> {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      throw new ModelLoadError(file, `cannot read tokenizer: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return Llama2cTokenizer.parse(data, vocabSize, file);
  }

  static parse(data: Uint8Array, vocabSize: number, file = '<memory>'): Llama2cTokenizer {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength < 4) throw new ModelLoadError(file, `truncated: ${data.byteLength} bytes, no max_token_length`);
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0) throw new ModelLoadError(file, `bad max_token_length ${maxTokenLength}`);
    const pieces: Uint8Array[] = [];
    const scores = new Float32Array(vocabSize);
    let offset = 4;
    for (let id = 0; id < vocabSize; id++) {
      if (offset + 8 > data.byteLength) throw new ModelLoadError(file, `truncated: ends at token ${id} of ${vocabSize} (${data.byteLength} bytes); wrong tokenizer for this model?`);
      const score = view.getFloat32(offset, true);
      const length = view.getInt32(offset + 4, true);
      if (!Number.isFinite(score)) throw new ModelLoadError(file, `token ${id}: score ${score} is not finite`);
      if (length < 0 || length > maxTokenLength) throw new ModelLoadError(file, `token ${id}: length ${length} outside 0..max_token_length ${maxTokenLength}`);
      offset += 8;
      if (offset + length > data.byteLength) throw new ModelLoadError(file, `truncated inside token ${id} of ${vocabSize}`);
      pieces.push(data.slice(offset, offset + length));
      scores[id] = score;
      offset += length;
    }
    if (offset !== data.byteLength) {
      throw new ModelLoadError(file, `${data.byteLength - offset} bytes left after ${vocabSize} tokens: tokenizer is for a larger vocabulary than the model's ${vocabSize}`);
    }
    return new Llama2cTokenizer(pieces, scores, file);
  }

  /**
   * llama2.c `encode`: a dummy-prefix " " when the text is non-empty, one token per UTF-8
   * codepoint (byte fallback `<0xXX>` when the codepoint is not a piece), then repeatedly merge
   * the adjacent pair whose concatenation is a piece with the highest score (leftmost on ties).
   *
   * run.c rescans every pair after each merge (quadratic: 64k characters took 48 s). Here the
   * candidate pairs sit in a max-heap ordered by (score, leftmost position), tokens in a linked
   * list; a merge invalidates the two pairs that touched it (by version) and offers the two new
   * neighbours, so the merge order, and the output, is run.c's, in O(n log n).
   */
  encode(text: string, options?: { addBos?: boolean }): number[] {
    const initial: number[] = [];
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 0) this.pushPiece(initial, ' ');
    let start = 0;
    while (start < bytes.length) {
      // A codepoint: the lead byte plus its continuation bytes (at most 4 bytes, as in run.c).
      let end = start + 1;
      while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80 && end - start < 4) end++;
      this.pushPiece(initial, bytes.toString('latin1', start, end));
      start = end;
    }
    const merged = this.mergePairs(initial);
    return options?.addBos ? [LLAMA2C_BOS, ...merged] : merged;
  }

  /** The merge loop of `encode` on a priority queue (see there). */
  private mergePairs(initial: number[]): number[] {
    const n = initial.length;
    if (n < 2) return initial;
    const ids = Int32Array.from(initial);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const version = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MergeHeap();
    const offer = (left: number, right: number) => {
      const id = this.lookup.get(this.pieces[ids[left]!]! + this.pieces[ids[right]!]!);
      if (id !== undefined) heap.push({ score: this.scores[id]!, left, right, id, leftVersion: version[left]!, rightVersion: version[right]! });
    };
    for (let i = 0; i + 1 < n; i++) offer(i, i + 1);
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) {
      const { left, right } = top;
      // Stale: either side was merged or removed since this pair was offered.
      if (version[left] !== top.leftVersion || version[right] !== top.rightVersion) continue;
      ids[left] = top.id;
      version[left]!++;
      version[right]!++;
      const after = next[right]!;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      const before = prev[left]!;
      if (before >= 0) offer(before, left);
      if (after >= 0) offer(left, after);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  }

  private pushPiece(tokens: number[], piece: string): void {
    const id = this.lookup.get(piece);
    if (id !== undefined) {
      tokens.push(id);
      return;
    }
    for (let i = 0; i < piece.length; i++) tokens.push(piece.charCodeAt(i) + BYTE_TOKEN_OFFSET);
  }

  /** Control tokens (unk, BOS, EOS) decode to nothing. */
  isSpecial(id: number): boolean {
    return id < BYTE_TOKEN_OFFSET;
  }

  /**
   * The bytes `id` adds to decoded text when it follows `previous` (llama2.c `decode`: after
   * BOS the piece's leading space, the sentencepiece dummy prefix, is dropped).
   */
  tokenBytes(id: number, previous?: number): Uint8Array {
    this.checkId(id);
    if (this.isSpecial(id)) return new Uint8Array(0);
    const bytes = this.pieceBytes[id]!;
    if (previous === LLAMA2C_BOS && this.pieces[id]!.startsWith(' ')) return bytes.subarray(1);
    return bytes;
  }

  private bytesOf(ids: readonly number[], start: number, end: number, before: number | undefined): Uint8Array {
    const parts: Uint8Array[] = [];
    let previous = before;
    for (let i = start; i < end; i++) {
      const id = ids[i]!;
      parts.push(this.tokenBytes(id, previous));
      previous = id;
    }
    return Buffer.concat(parts);
  }

  decode(ids: readonly number[]): string {
    return utf8.decode(this.bytesOf(ids, 0, ids.length, undefined));
  }

  decodeIncrement(previous: readonly number[], ids: readonly number[]): string {
    // Bytes the earlier calls held back: the incomplete UTF-8 tail of `previous`. A sequence
    // is at most 4 bytes, so walking back until 3 bytes (or the start) is enough.
    let from = previous.length;
    let tailBytes = 0;
    while (from > 0 && tailBytes < 3) {
      from--;
      tailBytes += this.tokenBytes(previous[from]!, previous[from - 1]).length;
    }
    const earlier = this.bytesOf(previous, from, previous.length, previous[from - 1]);
    const pending = earlier.subarray(earlier.length - incompleteUtf8Tail(earlier));
    const added = this.bytesOf(ids, 0, ids.length, previous.at(-1));
    const all = Buffer.concat([pending, added]);
    return utf8.decode(all.subarray(0, all.length - incompleteUtf8Tail(all)));
  }

  /**
   * The token's surface text for logprobs: the piece as UTF-8; a byte token above 0x7F (not a
   * character by itself) is shown as its `<0xXX>` name.
   */
  tokenText(id: number): string {
    this.checkId(id);
    const bytes = this.pieceBytes[id]!;
    if (bytes.length === 1 && bytes[0]! > 0x7f) return this.pieces[id]!;
    return Buffer.from(bytes).toString('utf8');
  }

  /** The stored piece bytes and score, e.g. for publishing the vocabulary. */
  piece(id: number): { bytes: Uint8Array; score: number } {
    this.checkId(id);
    return { bytes: Buffer.from(this.pieces[id]!, 'latin1'), score: this.scores[id]! };
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary [0, ${this.vocabSize})`);
  }
}

/** A mergeable adjacent pair: token positions (list nodes) `left`, `right` and the versions they had when offered. */
interface MergeCandidate {
  score: number;
  left: number;
  right: number;
  id: number;
  leftVersion: number;
  rightVersion: number;
}

/** Binary max-heap on (score, then smaller `left` first): run.c's "highest score, leftmost on ties". */
class MergeHeap {
  private readonly items: MergeCandidate[] = [];

  private static before(a: MergeCandidate, b: MergeCandidate): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }

  push(item: MergeCandidate): void {
    const items = this.items;
    let at = items.length;
    items.push(item);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!MergeHeap.before(item, items[parent]!)) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = item;
  }

  pop(): MergeCandidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const child = r < items.length && MergeHeap.before(items[r]!, items[l]!) ? r : l;
      if (!MergeHeap.before(items[child]!, last)) break;
      items[at] = items[child]!;
      at = child;
    }
    items[at] = last;
    return top;
  }
}
