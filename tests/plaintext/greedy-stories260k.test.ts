/**
 * The oracle against published outputs of the real model: if these fail, the forward pass is
 * wrong (RoPE pairs, GQA mapping, norms), not the expected text.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { generate } from '../../plaintext/generate.js';
import { PlaintextModel } from '../../plaintext/plaintext-model.js';
import { samplingRng } from '../../sampling/sampling-rng.js';
import { DOCUMENTED_CONTINUATION, modelDir, repoRoot, RUNC_GREEDY_200 } from './stories260k.js';

const PROMPT = 'Once upon a time';

let model: ModelDescription;
beforeAll(async () => {
  model = await loadModel(modelDir);
});

async function greedy(promptIds: number[], maxTokens: number): Promise<number[]> {
  const generation = generate(new PlaintextModel(model).newSequence(), promptIds, {
    maxTokens,
    sampling: { temperature: 0 },
    rng: samplingRng(0),
    stopIds: model.tokenizer.eosIds,
  });
  const ids: number[] = [];
  for await (const step of generation) ids.push(step.id);
  return ids;
}

/** How many leading tokens of `ids` decode (after `prompt`) to a prefix of `expected`. */
function matchingTokens(prompt: number[], ids: number[], expected: string): number {
  let count = 0;
  for (let k = 1; k <= ids.length; k++) {
    if (!expected.startsWith(model.tokenizer.decodeIncrement(prompt, ids.slice(0, k)))) break;
    count = k;
  }
  return count;
}

describe('greedy generation on stories260K (library)', () => {
  it('continues "Once upon a time" with the documented text, then run.c\'s, for 80 tokens', async () => {
    const prompt = model.tokenizer.encode(PROMPT, { addBos: true });
    expect(prompt[0]).toBe(1);
    const ids = await greedy(prompt, 80);
    const text = model.tokenizer.decodeIncrement(prompt, ids);
    expect(text.startsWith(DOCUMENTED_CONTINUATION)).toBe(true);
    const reference = RUNC_GREEDY_200.slice(PROMPT.length);
    expect(reference.startsWith(DOCUMENTED_CONTINUATION)).toBe(true);
    expect(ids).toHaveLength(80);
    expect(matchingTokens(prompt, ids, reference)).toBe(80);
  });

  it('reproduces llama2.c run.c byte for byte from an empty prompt (200 tokens)', async () => {
    const prompt = model.tokenizer.encode('', { addBos: true });
    expect(prompt).toEqual([1]);
    const ids = await greedy(prompt, 200);
    expect(model.tokenizer.decodeIncrement(prompt, ids)).toBe(RUNC_GREEDY_200);
    expect(model.tokenizer.decode([...prompt, ...ids])).toBe(RUNC_GREEDY_200);
  });
});

describe('permllm generate --plaintext (CLI)', () => {
  it('prints the documented continuation as JSON with counts and timings', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repoRoot, 'bin/permllm.mjs'), 'generate', '--plaintext', '--model', modelDir, '--prompt', PROMPT, '-n', '70', '--temperature', '0', '--json'],
      { cwd: repoRoot },
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as {
      text: string;
      promptTokens: number;
      completionTokens: number;
      finishReason: string;
      timings: Record<string, number>;
    };
    expect(report.text.startsWith(DOCUMENTED_CONTINUATION)).toBe(true);
    expect(RUNC_GREEDY_200.slice(PROMPT.length).startsWith(report.text)).toBe(true);
    expect(report.promptTokens).toBe(model.tokenizer.encode(PROMPT, { addBos: true }).length);
    expect(report.completionTokens).toBe(70);
    expect(report.finishReason).toBe('length');
    for (const key of ['loadMs', 'prefillMs', 'decodeMs', 'decodeTokensPerSecond']) expect(report.timings[key]).toBeGreaterThan(0);
  });

  it('prints only the completion text without --json', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repoRoot, 'bin/permllm.mjs'), 'generate', '--plaintext', '--model', path.join(modelDir, 'stories260K.bin'), '--prompt', PROMPT, '-n', '60', '--temperature', '0'],
      { cwd: repoRoot },
    );
    expect(stdout.startsWith(DOCUMENTED_CONTINUATION)).toBe(true);
    expect(RUNC_GREEDY_200.slice(PROMPT.length).startsWith(stdout)).toBe(true);
  });
});
