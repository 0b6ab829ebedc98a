/**
 * The llama2.c tokenizer's heap-ordered merge loop against run.c's quadratic rescan (the
 * implementation it replaced, kept here as the oracle): same ids on thousands of seeded random
 * strings, on the real tok512.bin and on a vocabulary built to be full of equal scores, where
 * only "leftmost pair first" decides the order.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import { tokenizerPath } from './stories260k.js';

/** run.c's encode as the gateway ran it before: rescan every adjacent pair after each merge. */
function quadraticEncode(tokenizer: Llama2cTokenizer, text: string): number[] {
  const pieces: string[] = [];
  const lookup = new Map<string, number>();
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const p = Buffer.from(tokenizer.piece(id).bytes).toString('latin1');
    pieces.push(p);
    if (!lookup.has(p)) lookup.set(p, id);
  }
  const score = (id: number) => tokenizer.piece(id).score;
  const tokens: number[] = [];
  const push = (piece: string) => {
    const id = lookup.get(piece);
    if (id !== undefined) tokens.push(id);
    else for (let i = 0; i < piece.length; i++) tokens.push(piece.charCodeAt(i) + 3);
  };
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 0) push(' ');
  for (let start = 0; start < bytes.length; ) {
    let end = start + 1;
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80 && end - start < 4) end++;
    push(bytes.toString('latin1', start, end));
    start = end;
  }
  for (;;) {
    let bestScore = -Infinity;
    let bestId = -1;
    let bestIndex = -1;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const id = lookup.get(pieces[tokens[i]!]! + pieces[tokens[i + 1]!]!);
      if (id !== undefined && score(id) > bestScore) {
        bestScore = score(id);
        bestId = id;
        bestIndex = i;
      }
    }
    if (bestIndex < 0) return tokens;
    tokens.splice(bestIndex, 2, bestId);
  }
}

/** A small deterministic generator (xorshift32) so a failure names a reproducible seed. */
function generator(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const WORDS = ['Once', ' upon', ' a', ' time', ' there', ' was', ' little', ' girl', ' named', ' Lily', '.', ',', ' she', ' loved', ' to', ' play', '\n', '"', "'", ' the', 'the', 'ing', 'ed'];
const ODD = ['é', '中', '🙂', '\u0000', '\t', '  ', '—', '…', 'ß', '\u{10FFFF}', '\uFFFD'];

function randomText(next: () => number, maxLength: number): string {
  const parts: string[] = [];
  const length = Math.floor(next() * maxLength);
  while (parts.join('').length < length) {
    const r = next();
    if (r < 0.45) parts.push(WORDS[Math.floor(next() * WORDS.length)]!);
    else if (r < 0.85) parts.push(String.fromCharCode(32 + Math.floor(next() * 95)));
    else parts.push(ODD[Math.floor(next() * ODD.length)]!);
  }
  return parts.join('');
}

let real: Llama2cTokenizer;
beforeAll(async () => {
  real = await Llama2cTokenizer.load(tokenizerPath, 512);
});

describe('heap-ordered merges equal run.c merges', () => {
  it('on 3,000 seeded random strings with the real tok512.bin', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const text = randomText(generator(seed), seed % 100 === 0 ? 2000 : 120);
      const got = real.encode(text);
      const want = quadraticEncode(real, text);
      if (got.join() !== want.join()) expect({ seed, text, got }).toEqual({ seed, text, got: want });
    }
  });

  it('on random bytes decoded as UTF-8 (lone continuation bytes, replacement characters)', () => {
    for (let i = 0; i < 300; i++) {
      const text = randomBytes(1 + (i % 64)).toString('utf8');
      expect(real.encode(text, { addBos: true })).toEqual([1, ...quadraticEncode(real, text)]);
    }
  });

  it('on a vocabulary where every merge ties, so only the leftmost rule orders them', () => {
    // 3 control tokens, 256 byte tokens, then "a".."d" and every 2..4-letter string over
    // them, all with the same score (plus a few higher ones to interleave).
    const pieces: Uint8Array[] = [Buffer.from('<unk>'), Buffer.from('<s>'), Buffer.from('</s>')];
    for (let b = 0; b < 256; b++) pieces.push(Buffer.from(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
    const letters = ['a', 'b', 'c', 'd', ' '];
    const words: string[] = [...letters];
    for (let len = 2; len <= 4; len++) {
      const grow = words.filter((w) => w.length === len - 1);
      for (const w of grow) for (const l of letters) words.push(w + l);
    }
    for (const w of words) pieces.push(Buffer.from(w));
    const scores = Float32Array.from(pieces, (_, id) => (id < 259 ? 0 : id % 7 === 0 ? 2 : 1));
    const tied = new Llama2cTokenizer(pieces, scores);
    const next = generator(99);
    for (let i = 0; i < 1000; i++) {
      const text = Array.from({ length: Math.floor(next() * 60) }, () => letters[Math.floor(next() * letters.length)]!).join('');
      expect(tied.encode(text)).toEqual(quadraticEncode(tied, text));
    }
  });
});
