/**
 * The binary message format: one frame per protocol message, the same bytes in-process and
 * over WebSocket. All integers little-endian.
 *
 *   offset size field
 *   0      2    magic 0x504C ("PL")
 *   2      1    version (1)
 *   3      1    kind (MessageKind)
 *   4      4    seq: per-direction sequence number, starts at 0, +1 per frame (replay/reorder check)
 *   8      4    step: the schedule step the frame belongs to (both sides know the schedule)
 *   12     2    depth: critical-path depth (one-way flights) at the sender; 0 for offline frames
 *   14     1    flags: bit 0 = offline (depends only on offline data)
 *   15     1    part count
 *   16     …    parts: type u8 (1 = float64[], 2 = float32[], 3 = bytes, 4 = uint32[], 5 = uint64[]: ring64 shares),
 *                      length u32 (elements), then the data, padded to 8 bytes
 *
 * Float parts hold shares or masked values; a float64 share sent under the float32 profile is
 * rounded on the sender's side (protocol/masks), so the receiver always decodes Float64Array.
 */
export const FRAME_MAGIC = 0x504c;
export const FRAME_VERSION = 1;
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
  TokenQuery = 20, // P1→P0: BFV query (offline: the one-hots of random offsets, sent ahead)
  TokenAnswer = 21, // P0→P1: BFV answer
  LookupSetup = 22, // P1→P0: BFV public + Galois keys
  StepBegin = 23, // P1→P0: next forward pass (rows, positions) or end
  EmbeddingOpen = 24, // P0→P1: γ − U and γ ⊙ (s − V) + W0 (the pooled embedding, opened to P1)
  TokenOffset = 25, // P1→P0: s = j − r mod M for the query sent ahead (token-lookup-client.ts)
  Fused = 30, // several same-direction messages in one frame (parts carry a sub-header)
  End = 40,
  Error = 41,
}

export type FramePart = Float64Array | Uint8Array | Uint32Array | BigUint64Array;

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

// Arithmetic, not bit operations: a hostile length times 8 exceeds 32 bits and must not wrap.
const pad8 = (n: number) => Math.ceil(n / 8) * 8;

type FloatType = 'float64' | 'float32' | 'ring64';

function partBytes(part: FramePart, floatType: FloatType): number {
  if (part instanceof Float64Array) return pad8(part.length * (floatType === 'float32' ? 4 : 8));
  if (part instanceof BigUint64Array) return part.length * 8;
  if (part instanceof Uint32Array) return pad8(part.length * 4);
  return pad8(part.length);
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
    const type = p instanceof Float64Array ? (floatType === 'float32' ? 2 : 1) : p instanceof Uint32Array ? 4 : p instanceof BigUint64Array ? 5 : 3;
    view.setUint8(off, type);
    view.setUint32(off + 4, p.length, true);
    off += 8;
    if (type === 1) new Float64Array(buf, off, p.length).set(p as Float64Array);
    else if (type === 2) new Float32Array(buf, off, p.length).set(p as Float64Array);
    else if (type === 4) new Uint32Array(buf, off, p.length).set(p as Uint32Array);
    else if (type === 5) new BigUint64Array(buf, off, p.length).set(p as BigUint64Array);
    else bytes.set(p as Uint8Array, off);
    off += partBytes(p, floatType);
  }
  return bytes;
}

/** Decodes and validates a frame from an untrusted peer; throws FrameError on anything malformed. */
export function decodeFrame(data: Uint8Array, maxBytes: number): Frame {
  if (data.length > maxBytes) throw new FrameError(`${data.length} bytes exceeds the limit of ${maxBytes}`);
  if (data.length < FRAME_HEADER_BYTES) throw new FrameError(`${data.length} bytes is shorter than the header`);
  // Copy so that float views are aligned and the frame owns its memory.
  const buf = data.slice().buffer;
  const view = new DataView(buf);
  if (view.getUint16(0, true) !== FRAME_MAGIC) throw new FrameError('bad magic');
  if (view.getUint8(2) !== FRAME_VERSION) throw new FrameError(`unsupported version ${view.getUint8(2)}`);
  const kind = view.getUint8(3);
  if (!(kind in MessageKind)) throw new FrameError(`unknown kind ${kind}`);
  const count = view.getUint8(15);
  const parts: FramePart[] = [];
  let off = FRAME_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (off + 8 > data.length) throw new FrameError(`part ${i} header past the end`);
    const type = view.getUint8(off);
    const length = view.getUint32(off + 4, true);
    off += 8;
    const width = type === 1 || type === 5 ? 8 : type === 2 || type === 4 ? 4 : type === 3 ? 1 : 0;
    if (width === 0) throw new FrameError(`part ${i} has unknown type ${type}`);
    const span = pad8(length * width);
    if (off + span > data.length) throw new FrameError(`part ${i} (${length} elements) runs past the end`);
    if (type === 1) parts.push(new Float64Array(buf, off, length));
    else if (type === 2) parts.push(Float64Array.from(new Float32Array(buf, off, length)));
    else if (type === 4) parts.push(new Uint32Array(buf, off, length));
    else if (type === 5) parts.push(new BigUint64Array(buf, off, length));
    else parts.push(new Uint8Array(buf, off, length));
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
