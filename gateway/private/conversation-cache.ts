/**
 * Conversation reuse, gateway side (issue 12): the gateway's half of the attention state its
 * recent sessions left, with the token ids those sessions fed through the model, so that a
 * follow-up request whose prompt extends a recent prompt + output continues that state (the
 * engine and the dealer kept theirs: protocol/session/session-state-cache.ts) instead of
 * prefilling the whole history again.
 *
 * What it costs in privacy: the engine and the dealer learn that the two sessions belong to one
 * conversation (the follow-up names the session it continues), and how much of it was reused.
 * They learn nothing about the tokens themselves. Off unless the gateway is configured for it.
 *
 * Bounded by entries, bytes and a time-to-live (set it below the engine's and the dealer's, or
 * most resumptions will be refused there and fall back to a fresh session). An entry is taken
 * at most once: the follow-up session appends to its memories and leaves a new entry.
 */
import { keptBytes, type KeptAttention } from '../../protocol/schedule/forward-pass.js';
import type { SessionStateCacheLimits } from '../../protocol/session/session-state-cache.js';

/** What one finished session leaves at the gateway. */
export interface KeptConversation {
  sessionId: string;
  /** The pairing the state belongs to (a new pairing means a new masked model: nothing carries over). */
  pairingId: string;
  /** Token ids fed through the model, one per kept position. */
  tokens: readonly number[];
  kept: KeptAttention;
}

/** A kept conversation a new prompt can continue: the first `length` positions are reused. */
export interface ConversationMatch {
  entry: KeptConversation;
  length: number;
}

/**
 * A prompt continues a kept state only when it shares at least this many leading token ids with
 * it (or all of a shorter one): the state is then cut where they diverge (a chat client resends
 * the previous answer as text, and a template may render it differently from how it was
 * generated, e.g. the plain template's blank line between messages). Shorter overlaps are not
 * worth linking two requests for.
 */
export const MIN_REUSED_TOKENS = 8;

/** The gateway's default: the engine's and dealer's defaults are 16 entries, 256 MiB and 5 minutes. */
export const DEFAULT_CONVERSATION_LIMITS: SessionStateCacheLimits = { maxEntries: 16, maxBytes: 256 * 1024 * 1024, ttlMs: 4 * 60_000 };

interface Held {
  entry: KeptConversation;
  bytes: number;
  at: number;
}

export class ConversationCache {
  private readonly held: Held[] = [];

  constructor(
    readonly limits: SessionStateCacheLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    this.expire();
    return this.held.length;
  }

  get bytes(): number {
    return this.held.reduce((n, h) => n + h.bytes, 0);
  }

  /** Keeps a finished session's state (oldest entries evicted to stay within the limits). */
  put(entry: KeptConversation): void {
    const bytes = keptBytes(entry.kept);
    if (this.limits.maxEntries <= 0 || bytes > this.limits.maxBytes) return;
    this.held.push({ entry, bytes, at: this.now() });
    this.expire();
    while (this.held.length > this.limits.maxEntries || this.bytes > this.limits.maxBytes) this.held.shift();
  }

  /**
   * Takes the entry of `pairingId` that `prompt` continues furthest (longest common prefix of
   * token ids, at least one new token left to feed, at least MIN_REUSED_TOKENS of them or the
   * whole entry); undefined when none does.
   */
  take(prompt: readonly number[], pairingId: string): ConversationMatch | undefined {
    this.expire();
    let best: { index: number; length: number } | undefined;
    this.held.forEach((h, index) => {
      if (h.entry.pairingId !== pairingId) return;
      const tokens = h.entry.tokens;
      let common = 0;
      while (common < tokens.length && common < prompt.length && tokens[common] === prompt[common]) common++;
      const length = Math.min(common, prompt.length - 1);
      if (length < 1 || length < Math.min(MIN_REUSED_TOKENS, tokens.length)) return;
      if (!best || length > best.length) best = { index, length };
    });
    if (!best) return undefined;
    const [held] = this.held.splice(best.index, 1);
    return { entry: held!.entry, length: best.length };
  }

  clear(): void {
    this.held.length = 0;
  }

  private expire(): void {
    const now = this.now();
    for (let i = this.held.length - 1; i >= 0; i--) if (now - this.held[i]!.at > this.limits.ttlMs) this.held.splice(i, 1);
  }
}
