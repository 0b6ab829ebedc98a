/**
 * WebSocket close codes of the deployed protocol links (RFC 6455 leaves 4000–4999 to
 * applications). A session's owner closes each of its links with the code that says how the
 * session ended, so the other two parties learn at once why, without waiting for a timeout:
 * anything but `Normal` makes them end their side of the session too.
 */
export const CloseCode = {
  /** The session completed (or the link served its purpose). */
  Normal: 1000,
  /** The process is shutting down. */
  GoingAway: 1001,
  /** No close frame: the TCP connection dropped (a killed process, a network failure). */
  Abnormal: 1006,
  /** A message exceeded the receiver's size limit (set by `ws` itself). */
  MessageTooBig: 1009,
  /** The sender's side of the session failed (an error in its own work). */
  SessionFailed: 4000,
  /** The session ended because another party failed, left, or cancelled it. */
  PeerEnded: 4001,
  /** The receiver of this close broke the protocol (malformed, replayed, out-of-order frames, flow control). */
  ProtocolViolation: 4002,
  /** A party the session needs is unavailable (the engine cannot reach the dealer, a pairing is missing). */
  Unavailable: 4003,
  /** The other party of the session never joined (dealer rendezvous). */
  RendezvousTimeout: 4004,
  /** The gateway cancelled the session (client gone, stop sequence, timeout). */
  Cancelled: 4005,
  /** The session sent nothing for longer than the server's idle limit. */
  IdleTimeout: 4006,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

const names = new Map<number, string>(Object.entries(CloseCode).map(([name, code]) => [code, name]));

/** "PeerEnded (4001)" for logs and error messages. */
export function closeCodeName(code: number): string {
  return `${names.get(code) ?? 'code'} (${code})`;
}

/** Whether a close with this code means the session did not end as planned. */
export function isAbnormalClose(code: number): boolean {
  return code !== CloseCode.Normal;
}

/** WebSocket close reasons are limited to 123 bytes of UTF-8; cut on a character boundary. */
export function closeReasonText(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= 123) return message;
  let cut = 120;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return `${bytes.subarray(0, cut).toString('utf8')}...`;
}
