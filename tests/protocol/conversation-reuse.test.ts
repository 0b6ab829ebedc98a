/**
 * Conversation reuse on the real model (stories260K), three in-process parties: turn 2 continues
 * the attention state turn 1 left on all three parties, feeds only the new tokens, and chooses
 * exactly what a fresh session of the whole turn-2 prompt chooses (ring64: the permuted logits
 * equal the fixed-point oracle's bit for bit). A party that no longer holds the state refuses,
 * signed in the handshake, before anything prompt-dependent is sent; the state is taken once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConversationCache, DEFAULT_CONVERSATION_LIMITS } from '../../gateway/private/conversation-cache.js';
import type { PrivateGenerationRequest, PrivateSessionStats } from '../../gateway/private/private-generation.js';
import { ResumeRefusedError } from '../../gateway/private/resume-refused-error.js';
import { runInProcess, type InProcessParties, type InProcessStateCaches } from '../../in-process/in-process-parties.js';
import { loadModel } from '../../model/load-model.js';
import type { ModelDescription } from '../../model/model-description.js';
import { PERMLLM_PROFILE, RING64_PROFILE } from '../../protocol/masks/mask-profile.js';
import type { KeptAttention } from '../../protocol/schedule/forward-pass.js';
import { DEFAULT_STATE_CACHE_LIMITS, SessionStateCache } from '../../protocol/session/session-state-cache.js';
import { causalShareFactor } from '../helpers/causal-prefill-share.js';
import { fixedPointGenerate, GREEDY, pairModel, plaintextGenerate, sortedLogitsMismatches } from '../helpers/private-vs-plaintext.js';
import { defaultModelDir } from '../helpers/processes.js';

let model: ModelDescription;

beforeAll(async () => {
  model = await loadModel(defaultModelDir);
});

const caches = (): InProcessStateCaches => ({ engine: new SessionStateCache<KeptAttention>(DEFAULT_STATE_CACHE_LIMITS), dealer: new SessionStateCache<KeptAttention>(DEFAULT_STATE_CACHE_LIMITS) });

interface Turn {
  tokens: number[];
  logits: Float64Array[];
  stats: PrivateSessionStats;
  resumed: { engine: number; dealer: number };
}

async function turn(parties: InProcessParties, prompt: readonly number[], count: number, extra: Partial<PrivateGenerationRequest>, stateCaches?: InProcessStateCaches): Promise<Turn> {
  const logits: Float64Array[] = [];
  const run = runInProcess(parties, { promptTokens: prompt, maxTokens: count, sampling: GREEDY, adjustments: {}, stopIds: new Set(), onPermutedLogits: (v) => logits.push(Float64Array.from(v)), ...extra }, stateCaches);
  const tokens: number[] = [];
  let stats: PrivateSessionStats | undefined;
  try {
    for await (const event of run.events) {
      if (event.type === 'token') tokens.push(event.id);
      else if (event.type === 'stats') stats = event.stats;
    }
  } finally {
    await run.done;
  }
  const done = await run.done;
  if (done.engine instanceof Error) throw done.engine;
  if (done.dealer instanceof Error) throw done.dealer;
  return { tokens, logits, stats: stats!, resumed: { engine: done.engine.resumedLength, dealer: done.dealer.resumedLength } };
}

describe.each([RING64_PROFILE, PERMLLM_PROFILE])('conversation reuse ($name)', (profile) => {
  let parties: InProcessParties;
  beforeAll(async () => {
    parties = await pairModel(model, profile);
  }, 120_000);

  it('turn 2 continues turn 1\'s state, feeds only its new tokens, and chooses what a fresh session chooses', async () => {
    const stateCaches = caches();
    const conversations = new ConversationCache(DEFAULT_CONVERSATION_LIMITS);
    const keep: PrivateGenerationRequest['keep'] = (k) => conversations.put({ ...k, pairingId: 'p' });
    const prompt1 = model.tokenizer.encode('Once upon a time', { addBos: true });
    const first = await turn(parties, prompt1, 16, { keep }, stateCaches);
    expect(conversations.size).toBe(1);
    // Turn 2: the history (prompt + answer) and a new message.
    const prompt2 = [...prompt1, ...first.tokens, ...model.tokenizer.encode(' Then', { addBos: false })];
    const match = conversations.take(prompt2, 'p');
    expect(match).toBeDefined();
    // Everything fed before: the prompt and every answer token but the last (never fed).
    expect(match!.length).toBe(prompt1.length + first.tokens.length - 1);
    const second = await turn(parties, prompt2, 5, { keep, resume: { sessionId: match!.entry.sessionId, length: match!.length, kept: match!.entry.kept } }, stateCaches);
    const fresh = await turn(parties, prompt2, 5, {});
    expect(second.tokens).toEqual(fresh.tokens);
    expect(second.resumed).toEqual({ engine: match!.length, dealer: match!.length });
    expect(second.stats.reusedTokens).toBe(match!.length);
    const newRows = prompt2.length - match!.length;
    expect(second.stats.prefill.rows).toBe(newRows);
    expect(fresh.stats.prefill.rows).toBe(prompt2.length);
    // A pass costs per-row messages plus the causal triangle's attention entries: the reused
    // prefill (N new rows at the end of P) lies between N/P of the fresh one and the entries'
    // ratio (causal-prefill-share.ts), up to per-pass constants. Without reuse it would be all of it.
    const share = second.stats.prefill.bytesToEngine / ((fresh.stats.prefill.bytesToEngine * newRows) / prompt2.length);
    expect(share).toBeGreaterThan(0.9);
    expect(share).toBeLessThan(1.15 * causalShareFactor(newRows, prompt2.length));
    expect(fresh.stats.prefill.bytesToEngine).toBeGreaterThan(2 * second.stats.prefill.bytesToEngine);
    console.log(
      `${profile.name}: bytes ratio ${share.toFixed(3)} of N/P; turn 2 of ${prompt2.length} tokens reused ${match!.length}; prefill bytes to the engine ${second.stats.prefill.bytesToEngine} (${newRows} rows) vs ${fresh.stats.prefill.bytesToEngine} fresh (${prompt2.length} rows); from the engine ${second.stats.prefill.bytesFromEngine} vs ${fresh.stats.prefill.bytesFromEngine}; dealer ${second.stats.prefill.dealerBytesToGateway} vs ${fresh.stats.prefill.dealerBytesToGateway}`,
    );
    if (profile.dtype === 'ring64') {
      const oracle = await fixedPointGenerate(parties, prompt2, 5);
      expect(second.tokens).toEqual(oracle.tokens);
      expect(sortedLogitsMismatches(second.logits, oracle.logits)).toBe(0);
    } else {
      expect(second.tokens).toEqual((await plaintextGenerate(model, prompt2, 5)).tokens);
    }
    // Turn 3 continues turn 2's state in turn (it was kept again), and each state is taken once.
    expect(conversations.size).toBe(1);
    expect(stateCaches.engine.size).toBe(1);
  }, 120_000);

  it('a party that lost the state refuses before the prompt is sent; the state is not continued twice', async () => {
    const stateCaches = caches();
    const conversations = new ConversationCache(DEFAULT_CONVERSATION_LIMITS);
    const prompt1 = model.tokenizer.encode('Tom had a red ball', { addBos: true });
    const first = await turn(parties, prompt1, 4, { keep: (k) => conversations.put({ ...k, pairingId: 'p' }) }, stateCaches);
    const prompt2 = [...prompt1, ...first.tokens, ...model.tokenizer.encode(' He', { addBos: false })];
    const match = conversations.take(prompt2, 'p')!;
    const resume = { sessionId: match.entry.sessionId, length: match.length, kept: match.entry.kept };
    // The engine restarted (its cache is empty): it answers 0 in its signed key share.
    const lost: InProcessStateCaches = { engine: new SessionStateCache<KeptAttention>(DEFAULT_STATE_CACHE_LIMITS), dealer: stateCaches.dealer };
    const refused = await turn(parties, prompt2, 3, { resume }, lost).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ResumeRefusedError);
    expect((refused as ResumeRefusedError).holds).toEqual({ engine: false, dealer: true });
    // The dealer gave its state to the refused session: a second try is refused by the dealer too.
    const again = await turn(parties, prompt2, 3, { resume }, stateCaches).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ResumeRefusedError);
    expect((again as ResumeRefusedError).holds).toEqual({ engine: true, dealer: false });
  }, 120_000);
});
