/**
 * The llama2.c tokenizer against a second, deliberately naive implementation of the same
 * algorithm (run.c's encode) written here from the file format, on the real tok512.bin.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import { tokenizerPath } from './stories260k.js';

const VOCAB = 512;

/** Pieces as arrays of byte values, straight from the file. */
function readVocab(): { pieces: number[][]; scores: number[] } {
  const buf = readFileSync(tokenizerPath);
  const pieces: number[][] = [];
  const scores: number[] = [];
  let at = 4;
  for (let i = 0; i < VOCAB; i++) {
    scores.push(buf.readFloatLE(at));
    const len = buf.readInt32LE(at + 4);
    pieces.push([...buf.subarray(at + 8, at + 8 + len)]);
    at += 8 + len;
  }
  return { pieces, scores };
}

/** run.c's encode, written the slow obvious way: linear searches, arrays of bytes. */
function referenceEncode(vocab: { pieces: number[][]; scores: number[] }, text: string, bos: boolean): number[] {
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const find = (bytes: number[]) => vocab.pieces.findIndex((p) => same(p, bytes));
  const out: number[] = bos ? [1] : [];
  if (text.length > 0) out.push(find([0x20]));
  for (const ch of text) {
    const bytes = [...new TextEncoder().encode(ch)];
    const id = find(bytes);
    if (id >= 0) out.push(id);
    else for (const b of bytes) out.push(b + 3);
  }
  for (;;) {
    let best = -1;
    let bestScore = -1e10;
    let bestId = -1;
    for (let i = 0; i < out.length - 1; i++) {
      const id = find([...vocab.pieces[out[i]!]!, ...vocab.pieces[out[i + 1]!]!]);
      if (id >= 0 && vocab.scores[id]! > bestScore) {
        bestScore = vocab.scores[id]!;
        bestId = id;
        best = i;
      }
    }
    if (best < 0) return out;
    out.splice(best, 2, bestId);
  }
}

const CASES = [
  '',
  ' leading spaces',
  '  two',
  'é',
  'café crème',
  '中文',
  '🙂',
  'é 中文 🙂 ok',
  '\n\t',
  'Once upon a time',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'Lily said, "Don\'t worry!" 123 — “quotes” …',
  'a\u0000b',
];

let tokenizer: Llama2cTokenizer;
let vocab: ReturnType<typeof readVocab>;
beforeAll(async () => {
  tokenizer = await Llama2cTokenizer.load(tokenizerPath, VOCAB);
  vocab = readVocab();
});

describe('Llama2cTokenizer.encode', () => {
  it.each(CASES)('matches the reference algorithm on %j', (text) => {
    expect(tokenizer.encode(text)).toEqual(referenceEncode(vocab, text, false));
    expect(tokenizer.encode(text, { addBos: true })).toEqual(referenceEncode(vocab, text, true));
  });

  it('uses byte fallback <0xXX> = byte + 3 for codepoints outside the vocabulary', () => {
    const ids = tokenizer.encode('🙂');
    expect(ids.slice(-4)).toEqual([...Buffer.from('🙂')].map((b) => b + 3));
  });

  it('encodes the empty string to nothing but BOS', () => {
    expect(tokenizer.encode('')).toEqual([]);
    expect(tokenizer.encode('', { addBos: true })).toEqual([1]);
  });
});

describe('Llama2cTokenizer.decode', () => {
  it.each(CASES)('round-trips %j after BOS (the dummy-prefix space is stripped)', (text) => {
    expect(tokenizer.decode(tokenizer.encode(text, { addBos: true }))).toBe(text);
  });

  it('keeps the dummy-prefix space when no BOS precedes it, like run.c', () => {
    expect(tokenizer.decode(tokenizer.encode('hello'))).toBe(' hello');
  });

  it('skips BOS and EOS', () => {
    const ids = tokenizer.encode('the end', { addBos: true });
    expect(tokenizer.decode([...ids, 2])).toBe('the end');
  });

  it('streams multi-byte characters only once complete', () => {
    const prompt = tokenizer.encode('x', { addBos: true });
    const emoji = tokenizer.encode('🙂').slice(-4);
    const increments = emoji.map((_, i) => tokenizer.decodeIncrement([...prompt, ...emoji.slice(0, i)], [emoji[i]!]));
    expect(increments).toEqual(['', '', '', '🙂']);
  });

  it.each(CASES)('concatenated increments equal the whole decode for %j', (text) => {
    const ids = tokenizer.encode(text, { addBos: true });
    let streamed = '';
    for (let i = 1; i < ids.length; i++) streamed += tokenizer.decodeIncrement(ids.slice(0, i), [ids[i]!]);
    expect(streamed).toBe(tokenizer.decode(ids));
  });

  it('shows byte tokens as text only when they are a character by themselves', () => {
    expect(tokenizer.tokenText(0x41 + 3)).toBe('A');
    expect(tokenizer.tokenText(0xf0 + 3)).toBe('<0xF0>');
    expect(tokenizer.tokenText(tokenizer.encode('the')[0]!)).toBe(' the');
    expect(() => tokenizer.tokenText(VOCAB)).toThrow(RangeError);
  });
});
