/**
 * `POST /v1/responses` through the official openai client: text, instructions, streamed events
 * in OpenAI's order, `text.format` structured output with `responses.parse()` and a zod schema,
 * a function call and its output fed back as input items. Synthetic models with real
 * templates (random weights); the api-private project runs it on the private system.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodTextFormat } from 'openai/helpers/zod';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';
import { chatBackend, llama3ChatDir, privateRun, qwenChatDir } from './helpers/synthetic-chat-models.js';

const Answer = z.object({ answer: z.string(), confidence: z.number() });

describe('responses on a Llama 3 template', () => {
  let gw: TestGateway;
  let model: string;
  beforeAll(async () => {
    gw = await startTestGateway({ backend: await chatBackend(await llama3ChatDir()) });
    model = gw.backend.modelInfo.id;
  });
  afterAll(() => gw?.close());

  it('responses.parse() with zodTextFormat gives the parsed object; usage adds up', async () => {
    const response = await gw.openai.responses.parse({
      model,
      instructions: 'Answer in JSON.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Why is the sky blue?' }] }],
      text: { format: zodTextFormat(Answer, 'answer') },
      max_output_tokens: 14,
      store: false,
    });
    expect(response.status).toBe('completed');
    expect(Answer.parse(response.output_parsed)).toEqual(JSON.parse(response.output_text));
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
  });

  it.skipIf(privateRun)('streamed events come in OpenAI order and spell the same text', async () => {
    const stream = await gw.openai.responses.create({ model, input: 'Hello', max_output_tokens: 6, stream: true, temperature: 0 });
    const types: string[] = [];
    let text = '';
    let final = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.incomplete' || event.type === 'response.completed') {
        final = event.response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('');
      }
    }
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.at(-1)).toMatch(/^response\.(completed|incomplete)$/);
    expect(types.slice(-4, -1)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done']);
    expect(final).toBe(text);
    const whole = await gw.openai.responses.create({ model, input: 'Hello', max_output_tokens: 6, temperature: 0 });
    expect(whole.output_text).toBe(text);
    expect(whole.status).toBe('incomplete');
  });
});

describe.skipIf(privateRun)('responses with tools on a Qwen template', () => {
  let gw: TestGateway;
  let model: string;
  beforeAll(async () => {
    gw = await startTestGateway({ backend: await chatBackend(await qwenChatDir(), { plaintextOnly: true }) });
    model = gw.backend.modelInfo.id;
  });
  afterAll(() => gw?.close());

  it('a required function call, then its output as an input item', async () => {
    const tools = [{ type: 'function' as const, name: 'lookup', description: 'Look a word up', parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'], additionalProperties: false }, strict: true }];
    const first = await gw.openai.responses.create({ model, input: 'Define "sky".', tools, tool_choice: 'required', max_output_tokens: 20 });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup', call_id: expect.stringMatching(/^call_/) });
    expect(z.object({ word: z.string() }).parse(JSON.parse(call!.type === 'function_call' ? call!.arguments : ''))).toBeTruthy();
    const second = await gw.openai.responses.create({
      model,
      input: [{ role: 'user', content: 'Define "sky".' }, call!, { type: 'function_call_output', call_id: call!.type === 'function_call' ? call!.call_id : '', output: 'the air above' }],
      tools,
      max_output_tokens: 3,
    });
    expect(second.output.length).toBeGreaterThan(0);
  });
});
