/** POST /v1/completions (legacy) through the official openai client, on the real model. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { GREEDY_STORY, MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('legacy completions', () => {
  it('completes a string prompt (default max_tokens 16) and a token-array prompt identically', async () => {
    const text = await gw.openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', temperature: 0 });
    expect(text.object).toBe('text_completion');
    expect(text.id).toMatch(/^cmpl-/);
    expect(text.usage?.completion_tokens).toBe(16);
    expect(text.choices[0]?.finish_reason).toBe('length');
    expect(GREEDY_STORY.startsWith(text.choices[0]?.text ?? '-')).toBe(true);

    const ids = gw.backend.modelInfo.tokenizer.encode('Once upon a time', { addBos: true });
    const tokens = await gw.openai.completions.create({ model: MODEL_ID, prompt: ids, temperature: 0, max_tokens: 16 });
    expect(tokens.choices[0]?.text).toBe(text.choices[0]?.text);
    expect(tokens.usage?.prompt_tokens).toBe(ids.length);
  });

  it('batches prompts: n choices per prompt, index = prompt * n + i, prompt tokens summed', async () => {
    const completion = await gw.openai.completions.create({
      model: MODEL_ID,
      prompt: ['Once upon a time', 'Tom'],
      temperature: 0,
      max_tokens: 4,
      n: 2,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(completion.choices[0]?.text).toBe(completion.choices[1]?.text);
    expect(completion.choices[2]?.text).not.toBe(completion.choices[0]?.text);
    const tokenizer = gw.backend.modelInfo.tokenizer;
    const promptTokens = tokenizer.encode('Once upon a time', { addBos: true }).length + tokenizer.encode('Tom', { addBos: true }).length;
    expect(completion.usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: 16, total_tokens: promptTokens + 16 });
    // The same batch as token arrays gives the same texts.
    const asTokens = await gw.openai.completions.create({
      model: MODEL_ID,
      prompt: [tokenizer.encode('Once upon a time', { addBos: true }), tokenizer.encode('Tom', { addBos: true })],
      temperature: 0,
      max_tokens: 4,
      n: 2,
    });
    expect(asTokens.choices.map((c) => c.text)).toEqual(completion.choices.map((c) => c.text));
  });

  it('streams the same text, with stop strings held back and never emitted', async () => {
    const params = { model: MODEL_ID, prompt: 'Once upon a time', temperature: 0, max_tokens: 20, stop: 'girl' };
    const whole = await gw.openai.completions.create(params);
    expect(whole.choices[0]?.text).toBe(', there was a little ');
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    const stream = await gw.openai.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text).toBe(whole.choices[0]?.text);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual(whole.usage);
  });

  it('logprobs k gives tokens, token_logprobs, top_logprobs and text offsets', async () => {
    const completion = await gw.openai.completions.create({ model: MODEL_ID, prompt: 'Once upon a time', temperature: 0, max_tokens: 5, logprobs: 2 });
    const choice = completion.choices[0]!;
    const lp = choice.logprobs!;
    expect(lp.tokens).toHaveLength(5);
    expect(lp.tokens?.join('')).toBe(choice.text);
    expect(lp.token_logprobs?.every((v) => v <= 0)).toBe(true);
    expect(lp.top_logprobs?.every((m) => Object.keys(m).length <= 2 && Object.keys(m).length >= 1)).toBe(true);
    let offset = 0;
    lp.tokens?.forEach((token, i) => {
      expect(lp.text_offset?.[i]).toBe(offset);
      offset += token.length;
    });
  });

  it.each([
    ['echo', { echo: true }],
    ['suffix', { suffix: 'The end.' }],
    ['best_of', { best_of: 2 }],
  ])('rejects %s with 400 unsupported_parameter', async (param, extra) => {
    const error = await gw.openai.completions.create({ model: MODEL_ID, prompt: 'Hi', max_tokens: 1, ...extra }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param });
  });

  it('accepts echo false, suffix null, best_of 1 and user', async () => {
    const completion = await gw.openai.completions.create({
      model: MODEL_ID,
      prompt: 'Hi',
      max_tokens: 1,
      echo: false,
      suffix: null,
      best_of: 1,
      user: 'u',
    });
    expect(completion.choices).toHaveLength(1);
  });

  it('rejects token ids outside the vocabulary, naming the prompt', async () => {
    const error = await gw.openai.completions.create({ model: MODEL_ID, prompt: [1, 99999], max_tokens: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, param: 'prompt' });
  });
});
