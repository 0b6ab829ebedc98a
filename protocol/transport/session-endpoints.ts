/**
 * Where sessions connect. Every session opens fresh WebSockets: gateway → engine, gateway →
 * dealer, and engine → dealer (the engine dials the dealer when a gateway opens a session
 * with it). The dealer pairs the gateway's and the engine's connection by session id.
 *
 *   ws(s)://engine/v1/session?session=<id>&pairing=<pairing id>
 *   ws(s)://dealer/v1/session?session=<id>&pairing=<pairing id>&role=gateway|engine
 *
 * The session id is the protocol's own (the gateway's Hello carries it; see
 * protocol/session/handshake.ts), and the receiving party checks that they agree. The pairing id
 * names the engine–dealer pairing whose masked model the gateway holds: a gateway with a stale
 * masked model is refused (409) before any session starts.
 */
export const SESSION_PATH = '/v1/session';

/**
 * The largest message a server accepts on a session connection before its Hello: a Hello is a
 * few hundred bytes (with a key share and a signature), so nothing larger is buffered from a
 * peer that has not started a session.
 */
export const PRE_HELLO_FRAME_BYTES = 16 << 10;

/** 128-bit ids as 32 lowercase hex characters (sessions and pairings alike). */
export const HEX_ID = /^[0-9a-f]{32}$/;

export type DealerRole = 'gateway' | 'engine';

/** http→ws, https→wss (ws and wss are kept); the base URL without a trailing slash. */
export function webSocketBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString().replace(/\/+$/, '');
}

/** ws→http, wss→https; the base URL without a trailing slash. */
export function httpBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  return u.toString().replace(/\/+$/, '');
}

export function engineSessionUrl(engineUrl: string, sessionId: string, pairingId: string): string {
  return `${webSocketBase(engineUrl)}${SESSION_PATH}?session=${sessionId}&pairing=${pairingId}`;
}

export function dealerSessionUrl(dealerUrl: string, sessionId: string, pairingId: string, role: DealerRole): string {
  return `${webSocketBase(dealerUrl)}${SESSION_PATH}?session=${sessionId}&pairing=${pairingId}&role=${role}`;
}

export interface SessionQuery {
  sessionId: string;
  pairingId: string;
  role: DealerRole | undefined;
}

/** Parses a session URL's query; an error string names the first bad field. */
export function parseSessionQuery(url: URL): SessionQuery | { error: string } {
  const sessionId = url.searchParams.get('session') ?? '';
  const pairingId = url.searchParams.get('pairing') ?? '';
  const role = url.searchParams.get('role');
  if (!HEX_ID.test(sessionId)) return { error: 'session must be 32 lowercase hex characters' };
  if (!HEX_ID.test(pairingId)) return { error: 'pairing must be 32 lowercase hex characters' };
  if (role !== null && role !== 'gateway' && role !== 'engine') return { error: 'role must be gateway or engine' };
  return { sessionId, pairingId, role: role ?? undefined };
}
