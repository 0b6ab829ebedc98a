/**
 * The public parameters of one session, agreed at its start. Lengths are visible to P0 and P2
 * (protocol.md, "Phases and sessions"); nothing here depends on the prompt's content.
 */
import { isAttentionMode, type AttentionMode } from '../schedule/attention-mode.js';

export interface SessionParams {
  /** 32 hex characters chosen by the gateway with node:crypto; binds every key to the session. */
  sessionId: string;
  promptLength: number;
  maxNewTokens: number;
  /** Mask profile name (protocol/masks). */
  profile: string;
  /** Token lookups per decode step: 1 + the number of top_logprobs requested. */
  lookupsPerToken: number;
  /** The schedule's optimisations (offline sends, V = B′, fusion); false = the paper-style baseline. */
  optimized: boolean;
  /** Attention mode (protocol/schedule/attention-mode.ts); absent = 'beaver', the paper's exposure. */
  attention?: AttentionMode;
  /**
   * What the session computes: token generation (absent or 'generate'), or one embedding pass
   * over promptLength tokens ('embed', ring-embedding-program.ts; maxNewTokens is then 1).
   */
  kind?: SessionKind;
  /**
   * Conversation reuse: ask the engine and the dealer to keep this session's attention memories
   * when it ends (session-state-cache.ts), so that a follow-up session may continue them. It
   * links the two sessions for both of them.
   */
  keep?: boolean;
  /**
   * Conversation reuse: continue the memories kept by session `sessionId`, cut to its first
   * `length` positions. `promptLength` counts the whole context, so the first pass is
   * `promptLength − length` rows at position `length`. Each party answers in the handshake
   * whether it holds that state; the gateway falls back to a fresh session unless all do.
   */
  resume?: { sessionId: string; length: number };
}

/** Rows and start position of the first pass (the prefill, or what a resumed session adds). */
export function firstPass(p: Pick<SessionParams, 'promptLength' | 'resume'>): { rows: number; start: number } {
  const start = p.resume?.length ?? 0;
  return { rows: p.promptLength - start, start };
}

export type SessionKind = 'generate' | 'embed';

export function encodeSessionParams(p: SessionParams): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(p));
}

/** Parses and range-checks session parameters sent by a peer. */
export function decodeSessionParams(bytes: Uint8Array, limits: { maxContext: number }): SessionParams {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('session params: not JSON');
  }
  const p = raw as Partial<SessionParams>;
  const int = (v: unknown, min: number, max: number, name: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`session params: ${name} must be an integer in [${min}, ${max}]`);
    return v;
  };
  if (typeof p.sessionId !== 'string' || !/^[0-9a-f]{32}$/.test(p.sessionId)) throw new Error('session params: bad sessionId');
  if (typeof p.profile !== 'string') throw new Error('session params: bad profile');
  const promptLength = int(p.promptLength, 1, limits.maxContext, 'promptLength');
  const maxNewTokens = int(p.maxNewTokens, 1, limits.maxContext - promptLength, 'maxNewTokens');
  if (typeof p.optimized !== 'boolean') throw new Error('session params: bad optimized flag');
  if (p.attention !== undefined && !isAttentionMode(p.attention)) throw new Error('session params: bad attention mode');
  if (p.kind !== undefined && p.kind !== 'generate' && p.kind !== 'embed') throw new Error('session params: bad kind');
  const out: SessionParams = { sessionId: p.sessionId, promptLength, maxNewTokens, profile: p.profile, lookupsPerToken: int(p.lookupsPerToken, 1, 21, 'lookupsPerToken'), optimized: p.optimized };
  if (p.attention !== undefined && p.attention !== 'beaver') out.attention = p.attention;
  if (p.kind === 'embed') out.kind = 'embed';
  if (p.keep !== undefined) {
    if (typeof p.keep !== 'boolean') throw new Error('session params: bad keep flag');
    out.keep = p.keep;
  }
  if (p.resume !== undefined) {
    const r = p.resume as Partial<NonNullable<SessionParams['resume']>> | null;
    if (typeof r !== 'object' || r === null || typeof r.sessionId !== 'string' || !/^[0-9a-f]{32}$/.test(r.sessionId) || r.sessionId === p.sessionId) throw new Error('session params: bad resume session id');
    out.resume = { sessionId: r.sessionId, length: int(r.length, 1, promptLength - 1, 'resume.length') };
  }
  // Conversation reuse keeps the parties' Beaver K/V memories; single-view keeps its cache at the user, and embeddings keep nothing.
  if ((out.keep || out.resume) && (out.attention !== undefined || out.kind === 'embed')) throw new Error('session params: conversation reuse runs in the beaver attention mode of generation sessions only');
  return out;
}
