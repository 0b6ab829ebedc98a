/**
 * POST /v1/chat/completions through the official openai client (v6) over a real socket,
 * against the real stories260K model. One test per row of the parameter table in docs/api.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { GREEDY_STORY, MODEL_ID } from './helpers/test-backend.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

let gw: TestGateway;
let client: OpenAI;
const prompt = [{ role: 'user' as const, content: 'Once upon a time' }];

beforeAll(async () => {
  gw = await startTestGateway();
  client = gw.openai;
});
afterAll(() => gw.close());

async function streamText(params: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'stream'>) {
  const stream = await client.chat.completions.create({ ...params, stream: true });
  const texts = new Map<number, string>();
  const finish = new Map<number, string>();
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const choice of chunk.choices) {
      texts.set(choice.index, (texts.get(choice.index) ?? '') + (choice.delta.content ?? ''));
      if (choice.finish_reason) finish.set(choice.index, choice.finish_reason);
    }
  }
  return { texts, finish, chunks };
}

describe('chat completions (official client)', () => {
  it('greedy decoding reproduces the documented story and reports usage that adds up', async () => {
    const completion = await client.chat.completions.create({ model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 12 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(MODEL_ID);
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    const [choice] = completion.choices;
    expect(choice?.message.role).toBe('assistant');
    expect(GREEDY_STORY.startsWith(choice?.message.content ?? '-')).toBe(true);
    expect(choice?.message.content?.length).toBeGreaterThan(20);
    expect(choice?.finish_reason).toBe('length');
    const tokenizer = gw.backend.modelInfo.tokenizer;
    expect(completion.usage).toEqual({
      prompt_tokens: tokenizer.encode('Once upon a time', { addBos: true }).length,
      completion_tokens: 12,
      total_tokens: tokenizer.encode('Once upon a time', { addBos: true }).length + 12,
    });
  });

  it('streaming text equals non-streaming text at temperature 0, with the chunk contract', async () => {
    const params = { model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 14 };
    const whole = await client.chat.completions.create(params);
    const { texts, finish, chunks } = await streamText({ ...params, stream_options: { include_usage: true, include_obfuscation: true } });
    expect(texts.get(0)).toBe(whole.choices[0]?.message.content);
    expect(finish.get(0)).toBe('length');
    // Same id/created/model everywhere; role only first; one finish chunk; usage chunk last.
    expect(new Set(chunks.map((c) => `${c.id}|${c.created}|${c.model}`)).size).toBe(1);
    const withRole = chunks.filter((c) => c.choices[0]?.delta.role !== undefined);
    expect(withRole).toHaveLength(1);
    expect(chunks[0]).toBe(withRole[0]);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason)).toHaveLength(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(whole.usage);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('finish_reason is "stop" when the model emits EOS (forced here with logit_bias)', async () => {
    const eos = [...gw.backend.modelInfo.tokenizer.eosIds][0]!;
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: prompt,
      temperature: 0,
      max_tokens: 5,
      logit_bias: { [String(eos)]: 100 },
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.content).toBe('');
    expect(completion.usage?.completion_tokens).toBe(0);
  });

  it('stop strings end the text before the match, never emit it, and stream the same text', async () => {
    const params = { model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 24, stop: ['Lily', 'zzz'] };
    const whole = await client.chat.completions.create(params);
    expect(whole.choices[0]?.message.content).toBe(', there was a little girl named ');
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    // A stop string spanning tokens (" g" + "ir" + "l") is held back while streaming.
    const streamed = await streamText({ ...params, stop: 'girl named' });
    expect(streamed.texts.get(0)).toBe(', there was a little ');
    expect(streamed.finish.get(0)).toBe('stop');
  });

  it('max_completion_tokens wins over max_tokens', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: prompt,
      temperature: 0,
      max_tokens: 9,
      max_completion_tokens: 3,
    });
    expect(completion.usage?.completion_tokens).toBe(3);
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('n gives independent choices; seed makes them reproducible (choice i uses seed + i)', async () => {
    const params = { model: MODEL_ID, messages: prompt, temperature: 1, max_tokens: 8, n: 3, seed: 1234 };
    const a = await client.chat.completions.create(params);
    const b = await client.chat.completions.create(params);
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(b.choices.map((c) => c.message.content)).toEqual(a.choices.map((c) => c.message.content));
    expect(new Set(a.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    expect(a.usage?.completion_tokens).toBe(24);
    expect(a.usage?.total_tokens).toBe((a.usage?.prompt_tokens ?? 0) + 24);
    // Streaming n: every index gets one role chunk and one finish chunk.
    const { chunks, finish } = await streamText({ ...params, n: 2 });
    for (const index of [0, 1]) {
      expect(chunks.filter((c) => c.choices[0]?.index === index && c.choices[0].delta.role)).toHaveLength(1);
      expect(finish.get(index)).toBe('length');
    }
  });

  it('temperature, top_p, top_k and min_p are honoured (each filter can force greedy)', async () => {
    const greedy = await client.chat.completions.create({ model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 10 });
    const text = greedy.choices[0]?.message.content;
    const sampled = async (extra: Record<string, number>) =>
      (await client.chat.completions.create({ model: MODEL_ID, messages: prompt, temperature: 1.5, max_tokens: 10, n: 4, seed: 7, ...extra }))
        .choices.map((c) => c.message.content);
    // Hot sampling drifts from greedy...
    expect((await sampled({})).some((t) => t !== text)).toBe(true);
    // ...unless a filter keeps only the top token.
    expect(new Set(await sampled({ top_k: 1 }))).toEqual(new Set([text]));
    expect(new Set(await sampled({ min_p: 1 }))).toEqual(new Set([text]));
    expect(new Set(await sampled({ top_p: 0 }))).toEqual(new Set([text]));
  });

  it('presence_penalty, frequency_penalty and logit_bias change the logits as OpenAI defines', async () => {
    const base = { model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 30 };
    const plain = (await client.chat.completions.create(base)).choices[0]?.message.content;
    const frequency = (await client.chat.completions.create({ ...base, frequency_penalty: 2 })).choices[0]?.message.content;
    const presence = (await client.chat.completions.create({ ...base, presence_penalty: 2 })).choices[0]?.message.content;
    expect(frequency).not.toBe(plain);
    expect(presence).not.toBe(plain);
    // The greedy first token is ","; a -100 bias bans it.
    const comma = gw.backend.modelInfo.tokenizer.encode(',', { addBos: false }).at(-1)!;
    expect(gw.backend.modelInfo.tokenizer.tokenText(comma)).toContain(',');
    const banned = await client.chat.completions.create({ ...base, max_tokens: 3, logit_bias: { [String(comma)]: -100 } });
    expect(banned.choices[0]?.message.content?.startsWith(',')).toBe(false);
  });

  it('logprobs and top_logprobs describe each token (greedy: the chosen token is the top one)', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: prompt,
      temperature: 0,
      max_tokens: 6,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content).toHaveLength(6);
    expect(content.map((t) => t.token).join('')).toBe(completion.choices[0]?.message.content);
    for (const t of content) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs[0]?.token).toBe(t.token);
      expect(t.top_logprobs[0]?.logprob).toBeCloseTo(t.logprob, 10);
      expect(t.bytes).toEqual([...Buffer.from(t.token, 'utf8')]);
    }
    // Streamed logprobs arrive with the text they produced.
    const { chunks } = await streamText({ model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 6, logprobs: true });
    const streamed = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    expect(streamed.map((t) => t.token)).toEqual(content.map((t) => t.token));
    expect(streamed.every((t) => t.top_logprobs.length === 0)).toBe(true);
  });

  it('accepts every message role, text-part arrays, and the accepted-but-unused fields', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [
        { role: 'system', content: 'Stories.' },
        { role: 'developer', content: [{ type: 'text', text: 'Short.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Tom had' }, { type: 'text', text: 'a dog.' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        { role: 'user', content: 'Once upon a time' },
      ],
      temperature: 0,
      max_tokens: 2,
      user: 'someone',
      safety_identifier: 'hash',
      response_format: { type: 'text' },
    });
    // The plain template for base models: contents joined by blank lines, parts by "\n".
    const text = 'Stories.\n\nShort.\n\nTom had\na dog.\n\n\n\nok\n\nOnce upon a time';
    expect(completion.usage?.prompt_tokens).toBe(gw.backend.modelInfo.tokenizer.encode(text, { addBos: true }).length);
  });

  it('reports the protocol cost: x-permllm-stats header, and `permllm` on the last stream frame', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 2 })
      .withResponse();
    expect(data.choices).toHaveLength(1);
    const stats = JSON.parse(response.headers.get('x-permllm-stats') ?? '{}') as Record<string, number>;
    expect(stats).toMatchObject({ bytes_to_engine: expect.any(Number), dealer_bytes: expect.any(Number) });
    expect(stats['decode_ms']).toBeGreaterThanOrEqual(0);
    const { chunks } = await streamText({ model: MODEL_ID, messages: prompt, temperature: 0, max_tokens: 2 });
    const withStats = chunks.filter((c) => 'permllm' in c);
    expect(withStats).toHaveLength(1);
    expect(withStats[0]).toBe(chunks.at(-1));
  });
});
