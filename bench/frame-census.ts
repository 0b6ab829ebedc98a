/**
 * Reads the headers of a physical frame (protocol/wire/frame.ts) without decoding its data:
 * which message kinds it carries (a Fused frame's inner frames, one level down), their sizes,
 * and the critical-path depth stamped on it. The benchmark uses this to split bytes by message
 * kind and to count flights; it never validates (the parties do that).
 */
import { FRAME_HEADER_BYTES, MessageKind } from '../protocol/wire/frame.js';

export interface MessageCensus {
  kind: string;
  /** The schedule step the message belongs to. */
  step: number;
  bytes: number;
  offline: boolean;
}

export interface FrameCensus {
  /** Critical-path depth in the physical header (0 for offline frames). */
  depth: number;
  offline: boolean;
  messages: MessageCensus[];
}

function kindName(kind: number): string {
  return MessageKind[kind] ?? `kind-${kind}`;
}

export function censusOf(frame: Uint8Array): FrameCensus {
  if (frame.length < FRAME_HEADER_BYTES) return { depth: 0, offline: false, messages: [{ kind: 'malformed', step: 0, bytes: frame.length, offline: false }] };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const kind = view.getUint8(3);
  const depth = view.getUint16(12, true);
  const offline = (view.getUint8(14) & 1) === 1;
  if (kind !== MessageKind.Fused) return { depth, offline, messages: [{ kind: kindName(kind), step: view.getUint32(8, true), bytes: frame.length, offline }] };
  // Fused: every part is a bytes part (type 3) holding one encoded inner frame.
  const messages: MessageCensus[] = [];
  const count = view.getUint8(15);
  let off = FRAME_HEADER_BYTES;
  let accounted = FRAME_HEADER_BYTES;
  for (let i = 0; i < count && off + 8 <= frame.length; i++) {
    const length = view.getUint32(off + 4, true);
    const start = off + 8;
    if (start + FRAME_HEADER_BYTES <= frame.length) {
      messages.push({ kind: kindName(view.getUint8(start + 3)), step: view.getUint32(start + 8, true), bytes: length + 8, offline: (view.getUint8(start + 14) & 1) === 1 });
      accounted += length + 8;
    }
    off = start + length; // frame version 2: parts are not padded
  }
  // Headers go to the first message so the sizes add up to the frame's.
  if (messages[0]) messages[0].bytes += frame.length - accounted;
  return { depth, offline, messages };
}
