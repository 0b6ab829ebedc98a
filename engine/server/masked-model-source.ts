/**
 * Serves the masked model X − U (protocol/transport/masked-model-format.ts) without ever
 * holding all of it and without blocking the event loop for long (running sessions' heartbeats
 * must keep flowing): X − U is produced in 1 MiB chunks as the reader pulls. Each tensor's mask
 * U is the pairing key's PRG stream for that tensor (protocol/session/pairing.ts: label
 * `<profile>/U/<name>`, `drawMask` on ±weightRatio·scale), drawn block by block; the PRG is a
 * keystream and drawMask works element by element, so consecutive blocks are exactly the one
 * long array `maskedModel()` draws (tests/network/masked-model-cache.test.ts compares the two
 * for both mask profiles). Under ring64 the mask is `ringMask` on the label `ring64/U/<name>`
 * (protocol/session/ring-pairing.ts: 8 keystream bytes per element, uniform over Z_2^64) and
 * each chunk is X − U mod 2^64 with X the engine's int16 weights, again exactly the one long
 * array `maskedRingModel()` builds. The digest is computed once at start-up by the same pass.
 * Byte ranges (`start`) let a gateway resume a broken download.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { yieldToEventLoop } from '../../compute/event-loop-slices.js';
import type { SharedKey } from '../../crypto/key-agreement.js';
import { ringFromIntegers, ringSub } from '../../compute/ring64.js';
import type { FixedPointWeight } from '../../model/fixed-point/fixed-point-weights.js';
import { drawMask, type MaskProfile } from '../../protocol/masks/mask-profile.js';
import { ringMask } from '../../protocol/masks/ring-masks.js';
import { specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';
import { ringMaskLabel, ringSpecOf } from '../../protocol/session/ring-pairing.js';
import { maskedModelLayout, type MaskedModelHeader, type MaskedModelLayout } from '../../protocol/transport/masked-model-format.js';

const CHUNK = 1 << 20;

/** What the stream is made of: the float profiles' weights, or ring64's int16 weights. */
export type MaskedModelWeights =
  | { kind: 'float'; weights: ReadonlyMap<string, PrivateWeight> }
  | { kind: 'ring'; weights: ReadonlyMap<string, FixedPointWeight> };

export class MaskedModelSource {
  readonly header: MaskedModelHeader;
  readonly layout: MaskedModelLayout;
  private readonly order: PrivateWeight[] = [];
  private readonly ringOrder: FixedPointWeight[] = [];
  private digestHex: string | undefined;

  constructor(
    weights: MaskedModelWeights,
    private readonly pairingKey: SharedKey,
    private readonly profile: MaskProfile,
    ids: { modelHash: string; pairingId: string },
  ) {
    if (endianness() !== 'LE') throw new Error('the masked model format is little-endian; this machine is not');
    if ((weights.kind === 'ring') !== (profile.dtype === 'ring64')) throw new Error(`masked model: profile ${profile.name} does not take ${weights.kind} weights`);
    const base = { modelHash: ids.modelHash, pairingId: ids.pairingId, profile: profile.name };
    if (weights.kind === 'ring') {
      this.ringOrder = [...weights.weights.values()];
      this.header = { ...base, tensors: [], ringTensors: this.ringOrder.map(ringSpecOf) };
    } else {
      this.order = [...weights.weights.values()];
      this.header = { ...base, tensors: this.order.map(specOf) };
    }
    this.layout = maskedModelLayout(this.header);
  }

  private get tensorCount(): number {
    return this.ringOrder.length > 0 ? this.ringOrder.length : this.order.length;
  }

  get totalBytes(): number {
    return this.layout.totalBytes;
  }

  /** sha256 (hex) of the whole stream; computed by `prepare()`. */
  get sha256(): string {
    if (!this.digestHex) throw new Error('masked model digest not computed yet');
    return this.digestHex;
  }

  /**
   * Computes the digest (one pass over every tensor, yielding to the event loop between chunks);
   * `onProgress(done, total)` (bytes) is called at every yield, for start-up progress lines.
   */
  async prepare(onProgress?: (doneBytes: number, totalBytes: number) => void): Promise<string> {
    const hash = createHash('sha256');
    let sinceYield = 0;
    let done = 0;
    for (const chunk of this.chunks(0)) {
      hash.update(chunk);
      sinceYield += chunk.length;
      done += chunk.length;
      if (sinceYield >= 8 * CHUNK) {
        sinceYield = 0;
        onProgress?.(done, this.totalBytes);
        await yieldToEventLoop();
      }
    }
    this.digestHex = hash.digest('hex');
    return this.digestHex;
  }

  /** X − U of tensor `index` from element `from` on, CHUNK bytes at a time. */
  private *tensorChunks(index: number, from: number): Generator<Uint8Array> {
    if (this.ringOrder.length > 0) {
      yield* this.ringTensorChunks(index, from);
      return;
    }
    const w = this.order[index]!;
    const prg = this.pairingKey.prg(`${this.profile.name}/U/${w.name}`);
    const width = this.profile.weightRatio * w.scale;
    const total = w.outDim * w.inDim;
    const block = CHUNK / 8;
    // Skip the keystream up to `from` (a resumed download), block by block.
    for (let skipped = 0; skipped < from; ) {
      const n = Math.min(block, from - skipped);
      prg.uniformArray(n, width);
      skipped += n;
    }
    for (let at = from; at < total; at += block) {
      const n = Math.min(block, total - at);
      const out = drawMask(this.profile, prg, n, width);
      for (let i = 0; i < n; i++) out[i] = w.data[at + i]! - out[i]!;
      yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
  }

  /** ring64: X − U mod 2^64 of tensor `index` from element `from` on (U = ringMask, 8 keystream bytes per element). */
  private *ringTensorChunks(index: number, from: number): Generator<Uint8Array> {
    const w = this.ringOrder[index]!;
    const prg = this.pairingKey.prg(ringMaskLabel(w.name));
    const total = w.outDim * w.inDim;
    const block = CHUNK / 8;
    for (let skipped = 0; skipped < from; ) {
      const n = Math.min(block, from - skipped);
      prg.bytes(8 * n);
      skipped += n;
    }
    for (let at = from; at < total; at += block) {
      const n = Math.min(block, total - at);
      const out = ringSub(ringFromIntegers(w.data.subarray(at, at + n)), ringMask(prg, n));
      yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
  }

  /** Chunks of the stream from byte `start` to the end. */
  private *chunks(start: number): Generator<Uint8Array> {
    const { head, offsets } = this.layout;
    if (start < head.length) yield head.subarray(start);
    for (let i = 0; i < this.tensorCount; i++) {
      const begin = offsets[i]!;
      const end = i + 1 < offsets.length ? offsets[i + 1]! : this.layout.totalBytes;
      if (end <= start) continue;
      const skipBytes = Math.max(0, start - begin);
      const firstElement = Math.floor(skipBytes / 8);
      let cut = skipBytes - firstElement * 8; // a range may start inside a float
      for (const chunk of this.tensorChunks(i, firstElement)) {
        yield cut > 0 ? chunk.subarray(cut) : chunk;
        cut = 0;
      }
    }
  }

  /** A web stream of bytes [start, totalBytes), produced as the reader pulls. */
  stream(start = 0): ReadableStream<Uint8Array> {
    const chunks = this.chunks(start);
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel() {
        chunks.return(undefined);
      },
    });
  }
}
