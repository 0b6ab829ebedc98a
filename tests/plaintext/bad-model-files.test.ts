/**
 * Bad input at the model trust boundary ends in a ModelLoadError that names the file and the
 * problem, never in a crash inside the math. Broken copies of the real files are written to a
 * temporary folder.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlama2cModel } from '../../model/llama2c/load-llama2c-model.js';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import { loadModel } from '../../model/load-model.js';
import { ModelLoadError } from '../../model/model-errors.js';
import { checkpointPath, tokenizerPath } from './stories260k.js';

let dir: string;
let checkpoint: Buffer;
let tokenizerBytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'permllm-bad-model-'));
  checkpoint = await readFile(checkpointPath);
  tokenizerBytes = await readFile(tokenizerPath);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A folder with the given checkpoint bytes and the real tokenizer; returns the .bin path. */
async function modelWith(name: string, bytes: Uint8Array, tokenizer: Uint8Array = tokenizerBytes): Promise<string> {
  const folder = path.join(dir, name);
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder);
  const bin = path.join(folder, 'model.bin');
  await writeFile(bin, bytes);
  await writeFile(path.join(folder, 'tok512.bin'), tokenizer);
  return bin;
}

function withHeaderField(index: number, value: number): Buffer {
  const copy = Buffer.from(checkpoint);
  copy.writeInt32LE(value, 4 * index);
  return copy;
}

async function loadError(load: Promise<unknown>): Promise<ModelLoadError> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

describe('llama2.c checkpoint validation', () => {
  it('names the file and expected vs actual bytes for a truncated checkpoint', async () => {
    const bin = await modelWith('truncated', checkpoint.subarray(0, checkpoint.length - 100));
    const error = await loadError(loadModel(bin));
    expect(error.file).toBe(bin);
    expect(error.message.startsWith(`${bin}: `)).toBe(true);
    expect(error.problem).toContain(`expected ${checkpoint.length} bytes`);
    expect(error.problem).toContain(`file has ${checkpoint.length - 100} bytes`);
  });

  it('rejects a file shorter than the header', async () => {
    const bin = await modelWith('tiny', checkpoint.subarray(0, 10));
    expect((await loadError(loadModel(bin))).problem).toMatch(/shorter than the 28-byte/);
  });

  it('rejects trailing bytes (wrong size, not only truncation)', async () => {
    const bin = await modelWith('long', Buffer.concat([checkpoint, Buffer.alloc(8)]));
    expect((await loadError(loadModel(bin))).problem).toMatch(/wrong size: expected 1056540 bytes/);
  });

  it.each([
    [0, -64, /dim = -64, must be positive/],
    [2, 0, /n_layers = 0, must be positive/],
    [3, 7, /dim 64 is not divisible by n_heads 7/],
    [4, 3, /n_heads 8 is not a multiple of n_kv_heads 3/],
    [5, 0, /vocab_size = 0/],
  ])('rejects header field %i = %i', async (index, value, pattern) => {
    const bin = await modelWith(`header-${index}`, withHeaderField(index, value));
    const error = await loadError(loadModel(bin));
    expect(error.file).toBe(bin);
    expect(error.problem).toMatch(pattern);
  });

  it('reads a negative vocab_size as an unshared classifier, and then wants its bytes', async () => {
    const bin = await modelWith('unshared', withHeaderField(5, -512));
    expect((await loadError(loadModel(bin))).problem).toMatch(/unshared classifier/);
    const withClassifier = await modelWith('unshared-ok', Buffer.concat([withHeaderField(5, -512), checkpoint.subarray(28, 28 + 512 * 64 * 4)]));
    const model = await loadModel(withClassifier);
    expect(model.config.tiedEmbeddings).toBe(false);
    expect(model.weights.lmHead).not.toBe(model.weights.embedding);
    expect(Array.from(model.weights.lmHead.subarray(0, 8))).toEqual(Array.from(model.weights.embedding.subarray(0, 8)));
  });
});

describe('llama2.c tokenizer validation', () => {
  it('rejects a tokenizer for a larger vocabulary, naming the tokenizer file', async () => {
    const bin = await modelWith('tok-too-big', checkpoint, Buffer.concat([tokenizerBytes, Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0x41])]));
    const tok = path.join(path.dirname(bin), 'tok512.bin');
    const error = await loadError(loadModel(bin));
    expect(error.file).toBe(tok);
    expect(error.problem).toMatch(/larger vocabulary/);
  });

  it('rejects a truncated tokenizer', async () => {
    const bin = await modelWith('tok-short', checkpoint, tokenizerBytes.subarray(0, 3000));
    expect((await loadError(loadModel(bin))).problem).toMatch(/truncated/);
  });

  it('rejects a file that is not a llama2.c tokenizer (no byte-fallback tokens)', async () => {
    const fake = Buffer.alloc(4 + 512 * 9);
    fake.writeInt32LE(1, 0);
    for (let i = 0; i < 512; i++) {
      fake.writeFloatLE(0, 4 + 9 * i);
      fake.writeInt32LE(1, 8 + 9 * i);
      fake[12 + 9 * i] = 0x61;
    }
    await expect(Llama2cTokenizer.load(await writeTemp('fake-tok.bin', fake), 512)).rejects.toThrow(/byte-fallback token <0x00>: not a llama2.c sentencepiece tokenizer/);
  });

  it('lists the names it looked for when no tokenizer exists', async () => {
    const folder = path.join(dir, 'no-tok');
    await mkdir(folder, { recursive: true });
    const bin = path.join(folder, 'stories260K.bin');
    await copyFile(checkpointPath, bin);
    const error = await loadError(loadLlama2cModel(bin));
    expect(error.file).toBe(bin);
    expect(error.problem).toMatch(/looked for tok512\.bin, tokenizer\.bin/);
  });

  it('finds tokenizer.bin when tok<vocab>.bin is absent', async () => {
    const folder = path.join(dir, 'generic-tok');
    await mkdir(folder, { recursive: true });
    await copyFile(checkpointPath, path.join(folder, 'stories260K.bin'));
    await copyFile(tokenizerPath, path.join(folder, 'tokenizer.bin'));
    const model = await loadModel(folder);
    expect(model.id).toBe('stories260K');
    expect(model.tokenizer.encode('Once', { addBos: true })[0]).toBe(1);
  });
});

describe('loadModel path handling', () => {
  it('names a missing path', async () => {
    const missing = path.join(dir, 'nope');
    const error = await loadError(loadModel(missing));
    expect(error.file).toBe(missing);
  });

  it('refuses a folder without a model and a tokenizer file given as the model', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    expect((await loadError(loadModel(empty))).problem).toMatch(/no model in this folder/);
    expect((await loadError(loadModel(tokenizerPath))).problem).toMatch(/not a model/);
  });
});

async function writeTemp(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}
