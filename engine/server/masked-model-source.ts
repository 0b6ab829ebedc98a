/**
 * Serves the masked model X − U (protocol/transport/masked-model-format.ts) without ever
 * holding all of it: each tensor's X − U is computed when the stream reaches it (from the
 * pairing key, via protocol/session/pairing.ts) and sent in 1 MiB chunks. The digest is
 * computed once at start-up by the same pass. Byte ranges (`start`) let a gateway resume a
 * broken download.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SharedKey } from '../../protocol/crypto/key-agreement.js';
import type { MaskProfile } from '../../protocol/masks/mask-profile.js';
import { specOf, type PrivateWeight } from '../../protocol/model/private-weights.js';
import { maskedModel } from '../../protocol/session/pairing.js';
import { maskedModelLayout, type MaskedModelHeader, type MaskedModelLayout } from '../../protocol/transport/masked-model-format.js';

const CHUNK = 1 << 20;

export class MaskedModelSource {
  readonly header: MaskedModelHeader;
  readonly layout: MaskedModelLayout;
  private readonly order: PrivateWeight[];
  private digestHex: string | undefined;

  constructor(
    weights: ReadonlyMap<string, PrivateWeight>,
    private readonly pairingKey: SharedKey,
    private readonly profile: MaskProfile,
    ids: { modelHash: string; pairingId: string },
  ) {
    if (endianness() !== 'LE') throw new Error('the masked model format is little-endian; this machine is not');
    this.order = [...weights.values()];
    this.header = { modelHash: ids.modelHash, pairingId: ids.pairingId, profile: profile.name, tensors: this.order.map(specOf) };
    this.layout = maskedModelLayout(this.header);
  }

  get totalBytes(): number {
    return this.layout.totalBytes;
  }

  /** sha256 (hex) of the whole stream; computed by `prepare()`. */
  get sha256(): string {
    if (!this.digestHex) throw new Error('masked model digest not computed yet');
    return this.digestHex;
  }

  /** Computes the digest (one pass over every tensor, yielding to the event loop between them). */
  async prepare(): Promise<string> {
    const hash = createHash('sha256');
    hash.update(this.layout.head);
    for (let i = 0; i < this.order.length; i++) {
      hash.update(this.tensorBytes(i));
      await yieldToEventLoop();
    }
    this.digestHex = hash.digest('hex');
    return this.digestHex;
  }

  private tensorBytes(index: number): Buffer {
    const w = this.order[index]!;
    const masked = maskedModel(this.pairingKey, this.profile, new Map([[w.name, w]])).get(w.name)!.data;
    return Buffer.from(masked.buffer, masked.byteOffset, masked.byteLength);
  }

  /** Chunks of the stream from byte `start` to the end. */
  private *chunks(start: number): Generator<Uint8Array> {
    const { head, offsets } = this.layout;
    if (start < head.length) yield head.subarray(start);
    for (let i = 0; i < this.order.length; i++) {
      const begin = offsets[i]!;
      const end = i + 1 < offsets.length ? offsets[i + 1]! : this.layout.totalBytes;
      if (end <= start) continue;
      const bytes = this.tensorBytes(i);
      for (let off = Math.max(0, start - begin); off < bytes.length; off += CHUNK) yield bytes.subarray(off, Math.min(bytes.length, off + CHUNK));
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
