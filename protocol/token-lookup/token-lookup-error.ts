/**
 * The one error type of the token lookup. Everything a peer can get wrong (malformed,
 * truncated, wrong-parameter or out-of-range bytes) and every bad local argument surfaces as a
 * TokenLookupError; the message names the bad argument and the problem and never contains
 * key material or plaintext values.
 */
export type TokenLookupErrorCode =
  /** A peer's bytes are not a valid message of the expected kind (trust boundary). */
  | 'malformed_message'
  /** A query asks for a number of lookups other than the session declared (a deviating P1). */
  | 'lookup_count_refused'
  /** A local caller passed a bad argument (programming error on this side). */
  | 'invalid_argument'
  /** The object was used after dispose(). */
  | 'disposed'
  /** The answer decrypted with no noise budget left or to an id out of range. */
  | 'undecryptable'
  /** node-seal's serialization format is not the one this module was written for. */
  | 'unsupported_runtime';

export class TokenLookupError extends Error {
  override readonly name = 'TokenLookupError';
  constructor(
    readonly code: TokenLookupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shorthand for the trust-boundary case: `what` names the field, `problem` what is wrong. */
export function malformed(what: string, problem: string): TokenLookupError {
  return new TokenLookupError('malformed_message', `${what}: ${problem}`);
}

export function invalidArgument(what: string, problem: string): TokenLookupError {
  return new TokenLookupError('invalid_argument', `${what}: ${problem}`);
}

/** The message of a caught error (SEAL's names the check that failed, never key material). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
