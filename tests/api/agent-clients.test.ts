/**
 * What agent frameworks need, through the official openai client (v6) over a real socket, on
 * synthetic models that carry real chat templates (random weights): structured outputs with
 * `.parse()` and a zod schema, a `runTools` loop whose arguments zod parses, tool calls
 * streamed as OpenAI streams them, the tool result fed back, echoed history, harmless fields,
 * and a hard-coded model name served through an alias. In the api-private project the same
 * calls run against the networked private system (engine and dealer as child processes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { z } from 'zod';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';
import { chatBackend, llama3ChatDir, privateRun, qwen32kChatDir, qwenChatDir } from './helpers/synthetic-chat-models.js';

const ALIAS = 'gpt-4o-mini';
const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) });
const Plan = z.object({ steps: z.array(z.object({ title: z.string(), minutes: z.number().int() })).max(2), done: z.boolean() });

describe('agent calls on a Llama 3 template (json tool syntax)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend: await chatBackend(await llama3ChatDir()), modelAliases: [ALIAS] });
  });
  afterAll(() => gw?.close());

  it('chat.completions.parse() with a zod response format returns the parsed object', async () => {
    const completion = await gw.openai.chat.completions.parse({
      model: ALIAS,
      messages: [{ role: 'user', content: 'Plan my morning.' }],
      response_format: zodResponseFormat(Plan, 'plan'),
      max_completion_tokens: 14,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(Plan.parse(choice.message.parsed)).toEqual(JSON.parse(choice.message.content!));
    expect(completion.model).toBe(gw.backend.modelInfo.id);
  });

  it('runTools calls the named function with zod-parsed arguments, and the tool result goes back through the template', async () => {
    const calls: z.infer<typeof Weather>[] = [];
    const runner = gw.openai.chat.completions.runTools({
      model: ALIAS,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [zodFunction({ name: 'get_weather', parameters: Weather, function: (args) => (calls.push(args), { temperature: 21 }) })],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 28,
    });
    await runner.done();
    expect(calls).toHaveLength(1);
    expect(Weather.parse(calls[0])).toEqual(calls[0]);
    const messages = runner.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    // Echo the whole history (the assistant message as the client got it) and continue.
    const next = await gw.openai.chat.completions.create({
      model: ALIAS,
      messages: [...messages, { role: 'user', content: 'Thanks.' }] as OpenAI.ChatCompletionMessageParam[],
      max_tokens: 1,
    });
    expect(next.choices[0]?.message.role).toBe('assistant');
  });
});

describe('agent calls on a Qwen template (hermes <tool_call> syntax)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // The full 151k-token tokenizer on the plaintext backend; on the private system (whose
    // per-token cost grows with the vocabulary) Qwen3's template and special tokens over the
    // derived 32k-token qwen3-32k tokenizer.
    gw = await startTestGateway({ backend: await chatBackend(await (privateRun ? qwen32kChatDir() : qwenChatDir())), modelAliases: [ALIAS] });
  });
  afterAll(() => gw?.close());

  it('tool_choice "required": one call, streamed as OpenAI streams it (id, type, name, then arguments), finish_reason tool_calls', async () => {
    const params = {
      model: ALIAS,
      messages: [{ role: 'user' as const, content: 'Weather?' }],
      tools: [zodFunction({ name: 'get_weather', parameters: Weather }), zodFunction({ name: 'get_time', parameters: z.object({ zone: z.string() }) })],
      tool_choice: 'required' as const,
      parallel_tool_calls: false,
      max_tokens: 30,
      seed: 7,
    };
    const stream = await gw.openai.chat.completions.create({ ...params, stream: true });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        deltas.push(...(choice.delta.tool_calls ?? []));
        expect(choice.delta.content ?? '').toBe('');
        finish = choice.finish_reason ?? finish;
      }
    }
    expect(finish).toBe('tool_calls');
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: expect.stringMatching(/^get_(weather|time)$/), arguments: '' } });
    const args = JSON.parse(deltas.slice(1).map((d) => d.function?.arguments ?? '').join('')) as unknown;
    const schema = deltas[0]!.function!.name === 'get_weather' ? Weather : z.object({ zone: z.string() });
    expect(() => schema.parse(args)).not.toThrow();
    // Non-streaming, same seed: the same call.
    const whole = await gw.openai.chat.completions.create(params);
    const call = whole.choices[0]!.message.tool_calls![0]!;
    expect(whole.choices[0]!.message.content).toBeNull();
    expect(call.type === 'function' && call.function.name).toBe(deltas[0]!.function!.name);
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(args);
  }, privateRun ? 480_000 : undefined);

  it('json_object mode gives a JSON object; harmless fields are accepted; echoed history is accepted', async () => {
    const first = await gw.openai.chat.completions.create({
      model: ALIAS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'JSON please' }] }],
      response_format: { type: 'json_object' },
      max_tokens: 16,
      store: false,
      metadata: { app: 'test' },
      service_tier: 'auto',
      prompt_cache_key: 'k',
      modalities: ['text'],
      // Extensions other servers accept.
      ...({ chat_template_kwargs: { enable_thinking: false }, repetition_penalty: 1.1 } as object),
    });
    const value: unknown = JSON.parse(first.choices[0]!.message.content!);
    expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
    const echoed = {
      ...first.choices[0]!.message,
      tool_calls: null,
      function_call: null,
      audio: null,
      reasoning_content: 'thought',
    } as unknown as OpenAI.ChatCompletionMessageParam;
    const second = await gw.openai.chat.completions.create({
      model: ALIAS,
      messages: [{ role: 'user', content: 'JSON please' }, echoed, { role: 'user', content: 'Again.' }],
      max_tokens: 1,
    });
    expect(second.choices).toHaveLength(1);
  });

  it('tools: [] and tool_choice "none" are accepted; an unknown tool name is a 400 naming tool_choice', async () => {
    const plain = await gw.openai.chat.completions.create({ model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], tools: [], tool_choice: 'none', max_tokens: 1 });
    expect(plain.choices[0]?.message.tool_calls).toBeUndefined();
    const error = await gw.openai.chat.completions
      .create({ model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], tools: [zodFunction({ name: 'a', parameters: Weather })], tool_choice: { type: 'function', function: { name: 'b' } }, max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, param: 'tool_choice' });
    const badSchema = await gw.openai.chat.completions
      .create({ model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'string', pattern: '^a' } } }, max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(badSchema).toMatchObject({ status: 400, param: 'response_format.json_schema.schema', code: 'invalid_schema' });
  });
});

describe.skipIf(privateRun)('model aliases', () => {
  it('an alias is listed, retrievable and served; other names are 404', async () => {
    const gw = await startTestGateway({ backend: await chatBackend(await llama3ChatDir()), modelAliases: [ALIAS] });
    try {
      const ids = (await gw.openai.models.list()).data.map((m) => m.id);
      expect(ids).toEqual([gw.backend.modelInfo.id, ALIAS]);
      expect((await gw.openai.models.retrieve(ALIAS)).id).toBe(ALIAS);
      const error = await gw.openai.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
    } finally {
      await gw.close();
    }
  });
});
