/**
 * The binary frame codec: exact round trips, and every kind of malformed input a hostile peer
 * can send is a FrameError (never another exception, never a crash).
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../../crypto/prg.js';
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES, FRAME_VERSION, FrameError, MessageKind, NarrowedRing, type Frame } from './frame.js';

const LIMIT = 1 << 20;

function sample(): Frame {
  return {
    kind: MessageKind.KvOpening,
    seq: 7,
    step: 123456,
    depth: 42,
    offline: true,
    parts: [Float64Array.from([1.5, -2.25, Math.PI]), new Uint8Array([1, 2, 3, 4, 5]), Uint32Array.from([0, 0xffffffff, 9]), new Float64Array(0)],
  };
}

function expectFrameError(data: Uint8Array, pattern: RegExp, limit = LIMIT): void {
  let caught: unknown;
  try {
    decodeFrame(data, limit);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FrameError);
  expect((caught as Error).message).toMatch(pattern);
}

/** A valid one-part float64 frame with a DataView for surgery. */
function valid(): { bytes: Uint8Array; view: DataView } {
  const bytes = encodeFrame({ kind: MessageKind.MulWInput, seq: 0, step: 1, depth: 1, offline: false, parts: [Float64Array.from([1, 2, 3])] });
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

describe('frame codec', () => {
  it('round-trips every part type and header field, with no padding between parts', () => {
    const frame = sample();
    const bytes = encodeFrame(frame);
    // 4 part headers; 3 float64, 5 bytes, 3 uint32, 0 float64: nothing rounded up to 8 bytes.
    expect(bytes.length).toBe(FRAME_HEADER_BYTES + 4 * 8 + 24 + 5 + 12 + 0);
    const back = decodeFrame(bytes, LIMIT);
    expect(back).toEqual(frame);
  });

  it('narrowed ring parts carry the low `width` bytes of each word and decode sign-extended', () => {
    const words = BigUint64Array.from([0n, 1n, 0x7fn, 0x80n, 0xffffffffffffff80n, 0x123456789abcdef0n, 0xffffffffffffffffn]);
    for (const width of [1, 2, 3, 4, 5, 7]) {
      const bytes = encodeFrame({ kind: MessageKind.PermOutput, seq: 1, step: 2, depth: 3, offline: false, parts: [new NarrowedRing(words, width), Uint8Array.of(9)] });
      expect(bytes.length).toBe(FRAME_HEADER_BYTES + 8 + words.length * width + 8 + 1);
      const [part, tail] = decodeFrame(bytes, LIMIT).parts;
      expect(part).toBeInstanceOf(NarrowedRing);
      const narrow = part as NarrowedRing;
      expect(narrow.width).toBe(width);
      const bits = BigInt(8 * width);
      expect(Array.from(narrow.values)).toEqual(Array.from(words, (w) => BigInt.asUintN(64, BigInt.asIntN(Number(bits), w))));
      expect(Array.from(tail as Uint8Array)).toEqual([9]);
    }
    expect(() => new NarrowedRing(words, 8)).toThrow(RangeError);
    expect(() => new NarrowedRing(words, 0)).toThrow(RangeError);
  });

  it('narrowed parts of any length and width, last in the frame or not, are exactly the low bytes of each word', () => {
    // The coder moves whole words where they fit (frame.ts) and bytes at the ends: every length around the switch-over.
    const random = new BigUint64Array(new Float64Array(Array.from({ length: 64 }, (_, i) => Math.sin(i + 1) * 1e300)).buffer);
    for (let width = 1; width <= 7; width++) {
      for (const length of [0, 1, 2, 3, 7, 8, 9, 17, 64]) {
        const values = random.subarray(0, length);
        for (const tail of [[], [Uint8Array.of(5, 6)]]) {
          const bytes = encodeFrame({ kind: MessageKind.PermOutput, seq: 0, step: 0, depth: 0, offline: false, parts: [new NarrowedRing(values, width), ...tail] });
          const data = bytes.subarray(FRAME_HEADER_BYTES + 8, FRAME_HEADER_BYTES + 8 + length * width);
          const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
          expect(Array.from(data)).toEqual(Array.from({ length: length * width }, (_, k) => raw[8 * Math.floor(k / width) + (k % width)]));
          const back = decodeFrame(bytes, LIMIT).parts;
          expect(Array.from((back[0] as NarrowedRing).values)).toEqual(Array.from(values, (w) => BigInt.asUintN(64, BigInt.asIntN(8 * width, w))));
          expect(back.slice(1)).toEqual(tail);
        }
      }
    }
  });

  it('rejects a narrowed part with a width outside 1..7, and a width byte on any other part type', () => {
    const bytes = encodeFrame({ kind: MessageKind.PermOutput, seq: 0, step: 1, depth: 1, offline: false, parts: [new NarrowedRing(BigUint64Array.from([1n, 2n]), 4)] });
    for (const bad of [0, 8, 200]) {
      const copy = bytes.slice();
      copy[FRAME_HEADER_BYTES + 1] = bad;
      expectFrameError(copy, /width byte|runs past the end|trailing/);
    }
    const a = valid();
    a.view.setUint8(FRAME_HEADER_BYTES + 1, 4);
    expectFrameError(a.bytes, /width byte 4 for type 1/);
    const b = valid();
    b.view.setUint8(FRAME_HEADER_BYTES + 2, 1);
    expectFrameError(b.bytes, /reserved/);
  });

  it('float32 encoding rounds floats and halves their bytes; the receiver still gets Float64Array', () => {
    const frame: Frame = { kind: MessageKind.PermInput, seq: 0, step: 1, depth: 0, offline: false, parts: [Float64Array.from([0.1, 1e10 + 1, -3])] };
    const f32 = encodeFrame(frame, 'float32');
    const f64 = encodeFrame(frame, 'float64');
    expect(f64.length - f32.length).toBe(24 - 12);
    const [part] = decodeFrame(f32, LIMIT).parts;
    expect(part).toBeInstanceOf(Float64Array);
    expect(Array.from(part as Float64Array)).toEqual([Math.fround(0.1), Math.fround(1e10 + 1), -3]);
  });

  it('rejects a bad magic, an unsupported version and an unknown kind', () => {
    const a = valid();
    a.view.setUint16(0, 0x4c50, true);
    expectFrameError(a.bytes, /bad magic/);
    // An old peer (version 1: padded parts, no narrowed rings) is refused cleanly, as is a newer one.
    expect(FRAME_VERSION).toBe(2);
    for (const version of [1, 3]) {
      const b = valid();
      b.view.setUint8(2, version);
      expectFrameError(b.bytes, new RegExp(`unsupported version ${version} \\(this build speaks 2\\)`));
    }
    const c = valid();
    c.view.setUint8(3, 99);
    expectFrameError(c.bytes, /unknown kind 99/);
  });

  it('rejects truncation anywhere: in the header, a part header, or part data', () => {
    const { bytes } = valid();
    expectFrameError(bytes.subarray(0, 0), /shorter than the header/);
    expectFrameError(bytes.subarray(0, FRAME_HEADER_BYTES - 1), /shorter than the header/);
    expectFrameError(bytes.subarray(0, FRAME_HEADER_BYTES + 4), /header past the end/);
    expectFrameError(bytes.subarray(0, bytes.length - 8), /runs past the end/);
  });

  it('rejects oversized frames before parsing them, and trailing bytes after the last part', () => {
    const { bytes } = valid();
    expectFrameError(bytes, /exceeds the limit/, bytes.length - 1);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expectFrameError(longer, /3 trailing bytes/);
    const fewerParts = valid();
    fewerParts.view.setUint8(15, 0);
    expectFrameError(fewerParts.bytes, /trailing bytes/);
  });

  it('rejects an unknown part type and part lengths that point past the end, however large', () => {
    const a = valid();
    a.view.setUint8(FRAME_HEADER_BYTES, 9);
    expectFrameError(a.bytes, /unknown type 9/);
    // Element counts whose byte size overflows 32 bits must not wrap around.
    for (const [type, length] of [
      [1, 0x20000000],
      [1, 0x1fffffff],
      [2, 0x40000000],
      [4, 0xffffffff],
      [3, 0xffffffff],
      [3, 0xfffffff9],
    ] as const) {
      const f = valid();
      f.view.setUint8(FRAME_HEADER_BYTES, type);
      f.view.setUint32(FRAME_HEADER_BYTES + 4, length, true);
      expectFrameError(f.bytes, /runs past the end/);
    }
  });

  it('fuzz: any mutation of a valid frame decodes or throws FrameError, nothing else', () => {
    const prg = Prg.fromSeed('frame-fuzz', 1);
    const base = encodeFrame(sample());
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = base.slice(0, prg.below(base.length + 1));
      const flips = 1 + prg.below(6);
      for (let k = 0; k < flips && bytes.length > 0; k++) {
        const at = prg.below(bytes.length);
        // Mostly single bytes; sometimes a whole 32-bit word (lengths, seq, step).
        if (prg.below(4) === 0 && at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(at, prg.below(2 ** 32), true);
        else bytes[at] = prg.below(256);
      }
      try {
        decodeFrame(bytes, LIMIT);
      } catch (e) {
        expect(e).toBeInstanceOf(FrameError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});
