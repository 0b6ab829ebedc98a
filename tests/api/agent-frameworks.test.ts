/**
 * Agent frameworks unchanged against the gateway, each as its users call it: LangChain
 * (`withStructuredOutput`, `bindTools`), the Vercel AI SDK (`generateObject` over the
 * Responses API, its default, and a forced tool call over chat completions) and the OpenAI
 * Agents SDK (an agent with a zod `outputType` over `/v1/responses`, and a function tool).
 * Synthetic models with real templates and random weights: constrained decoding must make
 * every answer schema-valid anyway. Tracing of the Agents SDK is off (it would call OpenAI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import OpenAI from 'openai';
import { ChatOpenAI } from '@langchain/openai';
import { tool as langchainTool } from '@langchain/core/tools';
import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, tool as aiTool } from 'ai';
import { Agent, OpenAIResponsesModel, run, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';
import { chatBackend, llama3ChatDir, privateRun, qwenChatDir } from './helpers/synthetic-chat-models.js';

const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) });
const Verdict = z.object({ ok: z.boolean(), reason: z.string() });

let gw: TestGateway;
let model: string;
beforeAll(async () => {
  // Qwen's template (hermes tool syntax) on the plaintext backend; on the private system the
  // Llama 3 template over a 32k vocabulary (json tool syntax), which keeps its per-token cost low.
  gw = await startTestGateway({ backend: await chatBackend(await (privateRun ? llama3ChatDir() : qwenChatDir())) });
  model = gw.backend.modelInfo.id;
  setTracingDisabled(true);
});
afterAll(() => gw?.close());

describe('LangChain (@langchain/openai)', () => {
  const chat = () => new ChatOpenAI({ model, apiKey: 'unused', configuration: { baseURL: gw.baseURL }, maxRetries: 0, maxTokens: 24 });

  it('withStructuredOutput(zod) returns a schema-valid object', async () => {
    const result = await chat().withStructuredOutput(Verdict, { name: 'verdict' }).invoke('Is water wet?');
    expect(Verdict.parse(result)).toEqual(result);
  });

  it('bindTools with a forced tool gives tool_calls with schema-valid args', async () => {
    const weather = langchainTool(async () => 'sunny', { name: 'get_weather', description: 'Weather for a city', schema: Weather });
    const message = await chat().bindTools([weather], { tool_choice: 'get_weather' }).invoke('Weather in Paris?');
    expect(message.tool_calls).toHaveLength(1);
    expect(message.tool_calls![0]!.name).toBe('get_weather');
    expect(Weather.parse(message.tool_calls![0]!.args)).toEqual(message.tool_calls![0]!.args);
  });
});

describe('Vercel AI SDK (ai, @ai-sdk/openai)', () => {
  const provider = () => createOpenAI({ baseURL: gw.baseURL, apiKey: 'unused' });

  it('generateObject over the Responses API (the provider default)', async () => {
    const { object } = await generateObject({ model: provider()(model), schema: Verdict, prompt: 'Is water wet?', maxOutputTokens: 24, maxRetries: 0 });
    expect(Verdict.parse(object)).toEqual(object);
  });

  it('generateText with a forced tool call over chat completions runs the tool with parsed input', async () => {
    const seen: z.infer<typeof Weather>[] = [];
    const result = await generateText({
      model: provider().chat(model),
      prompt: 'Weather in Paris?',
      tools: { get_weather: aiTool({ description: 'Weather for a city', inputSchema: Weather, execute: async (input) => (seen.push(input), 'sunny') }) },
      toolChoice: { type: 'tool', toolName: 'get_weather' },
      maxOutputTokens: 24,
      maxRetries: 0,
    });
    expect(result.toolCalls).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(Weather.parse(seen[0])).toEqual(seen[0]);
  });
});

describe('OpenAI Agents SDK (@openai/agents) over /v1/responses', () => {
  // The SDK's OpenAI type comes from its own (CJS) type declarations of the same openai package.
  const responsesModel = () =>
    new OpenAIResponsesModel(new OpenAI({ apiKey: 'unused', baseURL: gw.baseURL, maxRetries: 0 }) as unknown as ConstructorParameters<typeof OpenAIResponsesModel>[0], model);

  it('an agent with a zod outputType returns a parsed final output', async () => {
    const agent = new Agent({ name: 'judge', instructions: 'Judge the claim.', model: responsesModel(), outputType: Verdict, modelSettings: { maxTokens: 24 } });
    const result = await run(agent, 'Water is wet.');
    expect(Verdict.parse(result.finalOutput)).toEqual(result.finalOutput);
  });

  it('an agent calls a function tool (forced), gets its result back, and finishes', async () => {
    const seen: z.infer<typeof Weather>[] = [];
    const weather = agentTool({ name: 'get_weather', description: 'Weather for a city', parameters: Weather, execute: async (input) => (seen.push(input), 'sunny') });
    const agent = new Agent({
      name: 'forecaster',
      instructions: 'Use the tool.',
      model: responsesModel(),
      tools: [weather],
      modelSettings: { toolChoice: 'get_weather', maxTokens: 24 },
      // After the forced call, answer (the SDK resets tool_choice after a tool use by default).
      resetToolChoice: true,
    });
    const result = await run(agent, 'Weather in Paris?', { maxTurns: 3 });
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(Weather.parse(seen[0])).toEqual(seen[0]);
    expect(typeof result.finalOutput).toBe('string');
  });
});
