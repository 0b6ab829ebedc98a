/**
 * The binary message format: one frame per protocol message, the same bytes in-process and
 * over WebSocket. All integers little-endian.
 *
 *   offset size field
 *   0      2    magic 0x504C ("PL")
 *   2      1    version (2; a peer speaking another version is refused with "unsupported version")
 *   3      1    kind (MessageKind)
 *   4      4    seq: per-direction sequence number, starts at 0, +1 per frame (replay/reorder check)
 *   8      4    step: the schedule step the frame belongs to (both sides know the schedule)
 *   12     2    depth: critical-path depth (one-way flights) at the sender; 0 for offline frames
 *   14     1    flags: bit 0 = offline (depends only on offline data)
 *   15     1    part count
 *   16     …    parts: type u8 (1 = float64[], 2 = float32[], 3 = bytes, 4 = uint32[], 5 = uint64[]: ring64 shares,
 *                      6 = narrowed ring64: the low `width` bytes of each word), width u8 (type 6: 1..7, else 0),
 *                      2 bytes zero, length u32 (elements), then the data, unpadded
 *
 * Float parts hold shares or masked values; a float64 share sent under the float32 profile is
 * rounded on the sender's side (protocol/masks), so the receiver always decodes Float64Array.
 *
 * Version 2 (issue 12, "no more bytes than their values need"): parts are no longer padded to 8
 * bytes (the decoder copies each part into its own aligned array, so alignment bought nothing),
 * and type 6 carries a ring value known mod 2^(8·width) only (NarrowedRing; which messages may
 * be narrowed, and why that is exact and hides as much, is protocol/subprotocols/ring/ring-narrowing.ts).
 */
export const FRAME_MAGIC = 0x504c;
export const FRAME_VERSION = 2;
export const FRAME_HEADER_BYTES = 16;

export enum MessageKind {
  // Session setup
  Hello = 1,
  KeyShare = 2,
  SetupDone = 3,
  // Online and offline protocol messages
  MulWInput = 10, // P1→P0: D = y1 − V
  MulWCorrection = 11, // P2→P1: W1 = f(U, V) − W0
  PermInput = 12, // P1→P0: x1 − A
  PermOutput = 13, // P0→P1: π(x) − B
  PermCorrection = 14, // P2→P0: Δ = π(A) − B
  KvOpening = 15, // both ways: E (new cache rows) and F (fresh operand) halves
  KvCorrection = 16, // P2→P1: W1 of a Beaver product
  ElemReturn = 17, // P1→P0: η − A′
  ElemCorrection = 18, // P2→P0: Δ′ = π⁻¹(A′) − B′
  FusedValuesInput = 19, // P1→P0: Ŷ + S, the user's part of P·V in permuted row order, masked (ring-fused-values.ts)
  TokenQuery = 20, // P1→P0: BFV query (offline: the one-hots of random offsets, sent ahead)
  TokenAnswer = 21, // P0→P1: BFV answer
  LookupSetup = 22, // P1→P0: BFV public + Galois keys
  StepBegin = 23, // P1→P0: next forward pass (rows, positions) or end
  EmbeddingOpen = 24, // P0→P1: γ − U and γ ⊙ (s − V) + W0 (the pooled embedding, opened to P1)
  TokenOffset = 25, // P1→P0: s = j − r mod M for the query sent ahead (token-lookup-client.ts)
  FusedValuesCorrection = 26, // P2→P1: π(U1) + R′ and W1 of the fused P·V step (ring-fused-values.ts)
  Fused = 30, // several same-direction messages in one frame (parts carry a sub-header)
  End = 40,
  Error = 41,
}

/**
 * A ring64 array of which only the low 8·`width` bits travel (width 1..7 bytes per element). On
 * decoding, `values` holds each word sign-extended from those bits: a representative of the same
 * residue mod 2^(8·width), which is all the receiver may rely on.
 */
export class NarrowedRing {
  constructor(
    readonly values: BigUint64Array,
    readonly width: number,
  ) {
    if (!Number.isInteger(width) || width < 1 || width > 7) throw new RangeError(`narrowed ring width ${width} (1..7 bytes)`);
  }
  get length(): number {
    return this.values.length;
  }
}

export type FramePart = Float64Array | Uint8Array | Uint32Array | BigUint64Array | NarrowedRing;

export interface Frame {
  kind: MessageKind;
  seq: number;
  step: number;
  depth: number;
  offline: boolean;
  parts: FramePart[];
}

export class FrameError extends Error {
  constructor(message: string) {
    super(`malformed frame: ${message}`);
    this.name = 'FrameError';
  }
}

type FloatType = 'float64' | 'float32' | 'ring64';

/** Bytes of a part's data; arithmetic, not bit operations: a hostile length times 8 exceeds 32 bits and must not wrap. */
function partBytes(part: FramePart, floatType: FloatType): number {
  if (part instanceof Float64Array) return part.length * (floatType === 'float32' ? 4 : 8);
  if (part instanceof BigUint64Array) return part.length * 8;
  if (part instanceof NarrowedRing) return part.length * part.width;
  if (part instanceof Uint32Array) return part.length * 4;
  return part.length;
}

function partType(p: FramePart, floatType: FloatType): number {
  if (p instanceof Float64Array) return floatType === 'float32' ? 2 : 1;
  if (p instanceof Uint32Array) return 4;
  if (p instanceof BigUint64Array) return 5;
  if (p instanceof NarrowedRing) return 6;
  return 3;
}

/**
 * Elements of a narrowed part that are coded 8 bytes at a time: element i's word is written (read)
 * whole at byte i·width, and the bytes past its width are the next element's, so every such
 * access must stay inside the part (writing) or the frame (reading); the last few elements go
 * byte by byte. Word accesses, not one per byte: a 123,000-word part is some 0.3 ms, not 3.
 */
const wordCoded = (length: number, width: number, room: number): number => Math.max(0, Math.min(length, Math.floor((room - 8) / width) + 1));

/** The low `width` bytes of every little-endian word of `values`, packed. */
function writeNarrowed(bytes: Uint8Array, off: number, values: BigUint64Array, width: number): void {
  const src = new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Increasing order: each whole-word write's excess bytes are overwritten by the elements after it.
  const fast = wordCoded(values.length, width, values.length * width);
  for (let i = 0, d = off; i < fast; i++, d += width) {
    view.setUint32(d, src[2 * i]!, true);
    view.setUint32(d + 4, src[2 * i + 1]!, true);
  }
  const tail = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let i = fast, s = 8 * fast, d = off + fast * width; i < values.length; i++, s += 8, d += width) for (let b = 0; b < width; b++) bytes[d + b] = tail[s + b]!;
}

/** The inverse: each word from `width` bytes, sign-extended (bytes above filled with the top bit). */
function readNarrowed(data: Uint8Array, off: number, length: number, width: number): BigUint64Array {
  const out = new BigUint64Array(length);
  const dst32 = new Uint32Array(out.buffer);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fast = wordCoded(length, width, data.length - off);
  if (width > 4) {
    const shift = 64 - 8 * width; // 8..24: the high word's bits above the width
    for (let i = 0, s = off; i < fast; i++, s += width) {
      dst32[2 * i] = view.getUint32(s, true);
      dst32[2 * i + 1] = ((view.getUint32(s + 4, true) << shift) >> shift) >>> 0;
    }
  } else {
    const shift = 32 - 8 * width; // 0..24
    for (let i = 0, s = off; i < fast; i++, s += width) {
      const lo = (view.getUint32(s, true) << shift) >> shift;
      dst32[2 * i] = lo >>> 0;
      dst32[2 * i + 1] = lo < 0 ? 0xffffffff : 0;
    }
  }
  const dst = new Uint8Array(out.buffer);
  for (let i = fast, s = off + fast * width, d = 8 * fast; i < length; i++, s += width, d += 8) {
    for (let b = 0; b < width; b++) dst[d + b] = data[s + b]!;
    if (data[s + width - 1]! & 0x80) for (let b = width; b < 8; b++) dst[d + b] = 0xff;
  }
  return out;
}

/** Encodes a frame; float parts are written as float32 when `floatType` is 'float32'. */
export function encodeFrame(frame: Frame, floatType: FloatType = 'float64'): Uint8Array {
  if (frame.parts.length > 255) throw new RangeError('frame: too many parts');
  let size = FRAME_HEADER_BYTES;
  for (const p of frame.parts) size += 8 + partBytes(p, floatType);
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  view.setUint16(0, FRAME_MAGIC, true);
  view.setUint8(2, FRAME_VERSION);
  view.setUint8(3, frame.kind);
  view.setUint32(4, frame.seq, true);
  view.setUint32(8, frame.step, true);
  view.setUint16(12, Math.min(frame.depth, 0xffff), true);
  view.setUint8(14, frame.offline ? 1 : 0);
  view.setUint8(15, frame.parts.length);
  let off = FRAME_HEADER_BYTES;
  for (const p of frame.parts) {
    const type = partType(p, floatType);
    view.setUint8(off, type);
    if (p instanceof NarrowedRing) view.setUint8(off + 1, p.width);
    view.setUint32(off + 4, p.length, true);
    off += 8;
    const n = partBytes(p, floatType);
    if (type === 1) bytes.set(new Uint8Array((p as Float64Array).buffer, (p as Float64Array).byteOffset, n), off);
    else if (type === 2) bytes.set(new Uint8Array(Float32Array.from(p as Float64Array).buffer), off);
    else if (type === 4 || type === 5) bytes.set(new Uint8Array((p as Uint32Array | BigUint64Array).buffer, (p as Uint32Array | BigUint64Array).byteOffset, n), off);
    else if (type === 6) writeNarrowed(bytes, off, (p as NarrowedRing).values, (p as NarrowedRing).width);
    else bytes.set(p as Uint8Array, off);
    off += n;
  }
  return bytes;
}

/** Decodes and validates a frame from an untrusted peer; throws FrameError on anything malformed. */
export function decodeFrame(data: Uint8Array, maxBytes: number): Frame {
  if (data.length > maxBytes) throw new FrameError(`${data.length} bytes exceeds the limit of ${maxBytes}`);
  if (data.length < FRAME_HEADER_BYTES) throw new FrameError(`${data.length} bytes is shorter than the header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(0, true) !== FRAME_MAGIC) throw new FrameError('bad magic');
  if (view.getUint8(2) !== FRAME_VERSION) throw new FrameError(`unsupported version ${view.getUint8(2)} (this build speaks ${FRAME_VERSION})`);
  const kind = view.getUint8(3);
  if (!(kind in MessageKind)) throw new FrameError(`unknown kind ${kind}`);
  const count = view.getUint8(15);
  const parts: FramePart[] = [];
  let off = FRAME_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (off + 8 > data.length) throw new FrameError(`part ${i} header past the end`);
    const type = view.getUint8(off);
    const narrow = view.getUint8(off + 1);
    const length = view.getUint32(off + 4, true);
    off += 8;
    const width = type === 1 || type === 5 ? 8 : type === 2 || type === 4 ? 4 : type === 3 ? 1 : type === 6 ? narrow : 0;
    if (width === 0 && type !== 6) throw new FrameError(`part ${i} has unknown type ${type}`);
    if (type === 6 ? narrow < 1 || narrow > 7 : narrow !== 0) throw new FrameError(`part ${i} has width byte ${narrow} for type ${type}`);
    if (view.getUint16(off - 6, true) !== 0) throw new FrameError(`part ${i} has nonzero reserved bytes`);
    const span = length * width;
    if (off + span > data.length) throw new FrameError(`part ${i} (${length} elements) runs past the end`);
    // Each part is copied into its own aligned buffer (the frame owns its memory; no padding needed).
    const raw = data.slice(off, off + span);
    if (type === 1) parts.push(new Float64Array(raw.buffer, 0, length));
    else if (type === 2) parts.push(Float64Array.from(new Float32Array(raw.buffer, 0, length)));
    else if (type === 4) parts.push(new Uint32Array(raw.buffer, 0, length));
    else if (type === 5) parts.push(new BigUint64Array(raw.buffer, 0, length));
    else if (type === 6) parts.push(new NarrowedRing(readNarrowed(data, off, length, width), width));
    else parts.push(raw);
    off += span;
  }
  if (off !== data.length) throw new FrameError(`${data.length - off} trailing bytes`);
  return {
    kind: kind as MessageKind,
    seq: view.getUint32(4, true),
    step: view.getUint32(8, true),
    depth: view.getUint16(12, true),
    offline: (view.getUint8(14) & 1) === 1,
    parts,
  };
}
