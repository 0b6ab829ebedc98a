/**
 * Conversation reuse (issue 12): what turn 2 of a chat costs when it continues turn 1's kept
 * key/value state, against prefilling the whole history afresh, in one process (three parties
 * on in-process links, ring64). Prints per model: turn-2 prompt length, reused positions,
 * prefill bytes to and from the engine and from the dealer, and the prefill time (time to the
 * first token's logits), reuse vs fresh. Run with
 * `npx tsx bench/conversation-reuse.ts [model ...]` (default stories260K; names as in bench-models.ts).
 */
import { pathToFileURL } from 'node:url';
import { ConversationCache, DEFAULT_CONVERSATION_LIMITS } from '../gateway/private/conversation-cache.js';
import type { PrivateGenerationRequest, PrivateSessionStats } from '../gateway/private/private-generation.js';
import { pairInProcessFor, runInProcess, type InProcessParties, type InProcessStateCaches } from '../in-process/in-process-parties.js';
import { RING64_PROFILE } from '../protocol/masks/mask-profile.js';
import type { KeptAttention } from '../protocol/schedule/forward-pass.js';
import { DEFAULT_STATE_CACHE_LIMITS, SessionStateCache } from '../protocol/session/session-state-cache.js';
import { BENCH_MODELS } from './bench-models.js';

export interface ReuseRow {
  model: string;
  promptTokens: number;
  reused: number;
  reuse: PrivateSessionStats['prefill'] & { ms: number };
  fresh: PrivateSessionStats['prefill'] & { ms: number };
}

async function session(parties: InProcessParties, prompt: readonly number[], maxTokens: number, extra: Partial<PrivateGenerationRequest>, caches?: InProcessStateCaches) {
  const run = runInProcess(parties, { promptTokens: prompt, maxTokens, sampling: { temperature: 0, topP: 1, topK: 0, minP: 0 }, adjustments: {}, stopIds: new Set(), ...extra }, caches);
  const tokens: number[] = [];
  let stats: PrivateSessionStats | undefined;
  for await (const e of run.events) {
    if (e.type === 'token') tokens.push(e.id);
    else if (e.type === 'stats') stats = e.stats;
  }
  const done = await run.done;
  if (done.engine instanceof Error) throw done.engine;
  if (done.dealer instanceof Error) throw done.dealer;
  return { tokens, stats: stats! };
}

/** Turn 1: `first` prompt tokens and `answer` generated; turn 2 adds `added` tokens. */
export async function measureReuse(modelName: string, first = 32, answer = 32, added = 16): Promise<ReuseRow> {
  const entry = BENCH_MODELS.get(modelName);
  if (!entry) throw new Error(`unknown model ${modelName}`);
  const model = await entry.load();
  const parties = await pairInProcessFor(model, RING64_PROFILE);
  const caches: InProcessStateCaches = { engine: new SessionStateCache<KeptAttention>(DEFAULT_STATE_CACHE_LIMITS), dealer: new SessionStateCache<KeptAttention>(DEFAULT_STATE_CACHE_LIMITS) };
  const conversations = new ConversationCache(DEFAULT_CONVERSATION_LIMITS);
  const vocab = model.config.vocabSize;
  const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => (from + 7 * i) % vocab);
  const prompt1 = ids(first, 1);
  const turn1 = await session(parties, prompt1, answer, { keep: (k) => conversations.put({ ...k, pairingId: 'bench' }) }, caches);
  const prompt2 = [...prompt1, ...turn1.tokens, ...ids(added, 3)];
  const match = conversations.take(prompt2, 'bench');
  if (!match) throw new Error('turn 2 found no kept state');
  const reuse = await session(parties, prompt2, 1, { resume: { sessionId: match.entry.sessionId, length: match.length, kept: match.entry.kept } }, caches);
  const fresh = await session(parties, prompt2, 1, {});
  if (reuse.tokens.join() !== fresh.tokens.join()) throw new Error('reuse and fresh chose different tokens');
  return { model: modelName, promptTokens: prompt2.length, reused: match.length, reuse: { ...reuse.stats.prefill, ms: reuse.stats.prefillMs }, fresh: { ...fresh.stats.prefill, ms: fresh.stats.prefillMs } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = process.argv.slice(2);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log('model | turn-2 prompt | reused | prefill rows | to engine | from engine | from dealer | time to first token (incl. set-up)');
  for (const name of names.length ? names : ['stories260K']) {
    const r = await measureReuse(name);
    const line = (what: string, p: ReuseRow['reuse']) => `${name} ${what} | ${r.promptTokens} | ${what === 'reuse' ? r.reused : 0} | ${p.rows} | ${kib(p.bytesToEngine)} | ${kib(p.bytesFromEngine)} | ${kib(p.dealerBytesToGateway)} | ${p.ms.toFixed(0)} ms`;
    console.log(line('reuse', r.reuse));
    console.log(line('fresh', r.fresh));
  }
}
