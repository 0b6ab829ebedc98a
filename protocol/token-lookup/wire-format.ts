/**
 * Framing of the three token-lookup messages. Opaque bytes to the transport; little-endian.
 *
 *   header (8):  "PLTL" | u8 version (1) | u8 kind | u16 parameter set id (bfv-parameters.ts)
 *   setup  (P1 → P0, once per session):
 *                public key (seed 64 + packed key-level polynomial)
 *   query  (P1 → P0, per token): u32 vocabSize | u16 lookups | u16 ciphertexts per lookup
 *                (= ceil(vocabSize / N)) | lookups × ciphertexts × (seed 64 + packed
 *                first-level polynomial c0); lookup-major order
 *   answer (P0 → P1): u16 lookups | lookups × packed last-level (c0, c1)
 *   offset (P1 → P0, per token, for a query sent ahead): u16 lookups | u16 zero |
 *                lookups × u32 s_l = (j_l − r_l) mod M, M = ciphertexts × N (see
 *                TokenLookupClient.queryAhead)
 *
 * Every length is implied by the header fields and the parameters, and a message must have
 * exactly that length; no field is trusted before it is range-checked.
 *
 * What the framing shows P0 in the clear: the vocabulary size (public anyway) and the number
 * of lookups per token (1 + top_logprobs). Nothing depends on the indices.
 *
 * Sizes (parameter set 3, N = 8192, q of 3 × 45 bits, P of 45 bits): setup 184,392 bytes;
 * query 16 + lookups × ceil(V/8192) × 138,304; answer 10 + lookups × 92,160; offset
 * 12 + 4 × lookups.
 */
import { PARAMETER_SET_ID } from './bfv-parameters.js';
import { malformed } from './token-lookup-error.js';

export const MESSAGE_HEADER_BYTES = 8;
const MAGIC = [0x50, 0x4c, 0x54, 0x4c] as const; // "PLTL"
const VERSION = 1;

export const MessageKind = { setup: 1, query: 2, answer: 3, offset: 4 } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];
const KIND_NAMES: Record<MessageKind, string> = { 1: 'setup', 2: 'query', 3: 'answer', 4: 'offset' };

export function writeHeader(dst: Uint8Array, kind: MessageKind): number {
  dst.set(MAGIC, 0);
  dst[4] = VERSION;
  dst[5] = kind;
  new DataView(dst.buffer, dst.byteOffset, dst.byteLength).setUint16(6, PARAMETER_SET_ID, true);
  return MESSAGE_HEADER_BYTES;
}

/** Checks type, magic, version, kind and parameter set of a peer message. */
export function readHeader(bytes: unknown, kind: MessageKind, argName: string): Uint8Array {
  const name = KIND_NAMES[kind];
  if (!(bytes instanceof Uint8Array)) throw malformed(argName, `${name} message must be a Uint8Array`);
  if (bytes.length < MESSAGE_HEADER_BYTES) throw malformed(argName, `${name} message too short (${bytes.length} bytes)`);
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw malformed(argName, 'not a token-lookup message (bad magic)');
  if (bytes[4] !== VERSION) throw malformed(argName, `unsupported version ${bytes[4]}`);
  if (bytes[5] !== kind) {
    const got = KIND_NAMES[bytes[5] as MessageKind] ?? `unknown kind ${bytes[5]}`;
    throw malformed(argName, `expected a ${name} message, got ${got}`);
  }
  const params = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(6, true);
  if (params !== PARAMETER_SET_ID) throw malformed(argName, `BFV parameter set ${params}, expected ${PARAMETER_SET_ID}`);
  return bytes;
}

export function expectLength(bytes: Uint8Array, expected: number, argName: string, what: string): void {
  if (bytes.length !== expected) {
    throw malformed(argName, `${what}: expected exactly ${expected} bytes, got ${bytes.length}`);
  }
}
