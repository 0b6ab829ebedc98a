/**
 * `POST /v1/embeddings` through the official openai client:
 * - against the networked private system (engine and dealer as child processes, ring64): the
 *   vector equals the fixed-point oracle's pooled hidden state bit for bit (after the same
 *   normalisation), for every `input` form, both encodings, `dimensions`, and usage;
 * - against the plaintext backend: the float oracle's vector, and private ≈ plaintext.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { normalizedEmbedding } from '../../gateway/api/embeddings-route.js';
import { PlaintextBackend } from '../../gateway/pipeline/plaintext-backend.js';
import type { RemoteBackend } from '../../gateway/remote/remote-backend.js';
import { ringModelHashOf } from '../../engine/server/model-hash.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { fixedPointModelOf } from '../../plaintext/fixed-point/calibrate.js';
import { fixedPointEmbedding } from '../../plaintext/fixed-point/fixed-point-embedding.js';
import { FixedPointModel } from '../../plaintext/fixed-point/fixed-point-model.js';
import { createNetworkedBackend } from '../helpers/networked-backend.js';
import { defaultModelDir } from '../helpers/processes.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

const TEXTS = ['Lily saw a big red ball.', 'The cat sat on the mat and slept.'];

async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function cosine(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));
}

describe('embeddings on the networked private system (ring64) equal the fixed-point oracle', () => {
  let gw: TestGateway;
  let model: ModelDescription;
  let oracle: FixedPointModel;
  /** What the gateway must return for `tokens`: the oracle's mean-pooled vector, normalised. */
  let expected: (tokens: number[], dimensions?: number) => Promise<number[]>;
  beforeAll(async () => {
    const backend: RemoteBackend = await createNetworkedBackend(defaultModelDir);
    gw = await startTestGateway({ backend });
    model = await loadModel(defaultModelDir);
    const parts = await fixedPointModelOf(model);
    // The same calibration as the engine's (its card names the plan and weights by hash).
    expect(ringModelHashOf(model.config, parts.plan, parts.weights)).toBe(backend.card.modelHash);
    oracle = new FixedPointModel(model.config, parts.plan, parts.weights);
    expected = async (tokens, dimensions = model.config.dim) => Array.from(normalizedEmbedding((await fixedPointEmbedding(oracle, model.weights.finalNorm, tokens)).mean, dimensions));
  }, 240_000);
  afterAll(() => gw?.close());

  const tokensOf = (text: string) => model.tokenizer.encode(text, { addBos: true });

  it('a string (the client asks for base64 and decodes it): one unit vector, bit for bit the oracle, usage.prompt_tokens', async () => {
    const res = await gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: TEXTS[0]! });
    expect(res.object).toBe('list');
    expect(res.model).toBe(gw.backend.modelInfo.id);
    expect(res.data).toHaveLength(1);
    const vector = res.data[0]!.embedding;
    expect(vector).toHaveLength(model.config.dim);
    expect(norm(vector)).toBeCloseTo(1, 5);
    expect(vector).toEqual(await expected(tokensOf(TEXTS[0]!)));
    expect(res.usage).toEqual({ prompt_tokens: tokensOf(TEXTS[0]!).length, total_tokens: tokensOf(TEXTS[0]!).length });
  });

  it('a list of strings with encoding_format float: one vector per input, in order', async () => {
    const res = await gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: TEXTS, encoding_format: 'float' });
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    for (const [i, text] of TEXTS.entries()) expect(res.data[i]!.embedding).toEqual(await expected(tokensOf(text)));
    expect(res.data[0]!.embedding).not.toEqual(res.data[1]!.embedding);
    expect(res.usage.prompt_tokens).toBe(tokensOf(TEXTS[0]!).length + tokensOf(TEXTS[1]!).length);
  });

  it('token ids and lists of token ids give the same vectors as their text', async () => {
    const one = await gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: tokensOf(TEXTS[1]!) });
    expect(one.data[0]!.embedding).toEqual(await expected(tokensOf(TEXTS[1]!)));
    // Asked for explicitly, base64 comes back as the string (little-endian float32).
    const many = await gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: TEXTS.map(tokensOf), encoding_format: 'base64' });
    expect(many.data).toHaveLength(2);
    const encoded = many.data[1]!.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual(one.data[0]!.embedding);
  });

  it('dimensions keeps the first values and normalises again; more than the width is 400', async () => {
    const res = await gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: TEXTS[0]!, dimensions: 16 });
    expect(res.data[0]!.embedding).toHaveLength(16);
    expect(norm(res.data[0]!.embedding)).toBeCloseTo(1, 5);
    expect(res.data[0]!.embedding).toEqual(await expected(tokensOf(TEXTS[0]!), 16));
    const error = await failure(gw.openai.embeddings.create({ model: gw.backend.modelInfo.id, input: TEXTS[0]!, dimensions: model.config.dim + 1 }));
    expect(error).toMatchObject({ status: 400, param: 'dimensions' });
  });

  it('LangChain OpenAIEmbeddings (embedQuery, embedDocuments) gets the same vectors', async () => {
    const embeddings = new OpenAIEmbeddings({ model: gw.backend.modelInfo.id, apiKey: 'unused', configuration: { baseURL: gw.baseURL }, maxRetries: 0 });
    const query = await embeddings.embedQuery(TEXTS[0]!);
    expect(query).toEqual(await expected(tokensOf(TEXTS[0]!)));
    const docs = await embeddings.embedDocuments(TEXTS);
    expect(docs).toHaveLength(2);
    expect(docs[1]).toEqual(await expected(tokensOf(TEXTS[1]!)));
  });

  it('refuses empty inputs, ids outside the vocabulary, inputs longer than the context, and unknown models', async () => {
    const id = gw.backend.modelInfo.id;
    expect(await failure(gw.openai.embeddings.create({ model: id, input: '' }))).toMatchObject({ status: 400, param: 'input' });
    expect(await failure(gw.openai.embeddings.create({ model: id, input: [] }))).toMatchObject({ status: 400, param: 'input' });
    expect(await failure(gw.openai.embeddings.create({ model: id, input: ['ok', ''] }))).toMatchObject({ status: 400, param: 'input[1]' });
    expect(await failure(gw.openai.embeddings.create({ model: id, input: [1, model.config.vocabSize] }))).toMatchObject({ status: 400, param: 'input' });
    const long = Array.from({ length: model.config.maxSeqLen + 1 }, () => 1);
    expect(await failure(gw.openai.embeddings.create({ model: id, input: long }))).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect(await failure(gw.openai.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }))).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});

describe('embeddings on the plaintext backend are the float oracle\'s, close to the private ones', () => {
  let plain: TestGateway;
  let priv: TestGateway;
  beforeAll(async () => {
    plain = await startTestGateway({ backend: await PlaintextBackend.load(defaultModelDir) });
    priv = await startTestGateway({ backend: await createNetworkedBackend(defaultModelDir) });
  }, 240_000);
  afterAll(async () => {
    await plain?.close();
    await priv?.close();
  });

  it('mean of the final hidden states, normalised; private vs plaintext cosine above 0.9999', async () => {
    const model = await loadModel(defaultModelDir);
    const tokens = model.tokenizer.encode(TEXTS[1]!, { addBos: true });
    const hidden = await (plain.backend as PlaintextBackend).embed({ tokens, signal: new AbortController().signal });
    const p = await plain.openai.embeddings.create({ model: plain.backend.modelInfo.id, input: TEXTS[1]!, encoding_format: 'float' });
    expect(p.data[0]!.embedding).toEqual(Array.from(normalizedEmbedding(hidden.embedding, model.config.dim)));
    const q = await priv.openai.embeddings.create({ model: priv.backend.modelInfo.id, input: TEXTS[1]! });
    const c = cosine(p.data[0]!.embedding, q.data[0]!.embedding);
    console.log(`embedding "${TEXTS[1]}": private (ring64) vs plaintext (float) cosine ${c.toFixed(9)}`);
    expect(c).toBeGreaterThan(0.9999);
  });
});
