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
  return out;
}
