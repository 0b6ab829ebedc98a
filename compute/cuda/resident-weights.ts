/**
 * Device copies of host weights, kept resident so that only messages cross the bus.
 *
 * One copy per host typed array (a WeakMap keyed by the array that owns the data): the first
 * product with a weight uploads it, later products reuse the device buffer. When the host array
 * is garbage-collected the device buffer is freed (FinalizationRegistry); `release` frees it at
 * once. Contract: a weight is not mutated after its first product (the parties' model and masked
 * weights are write-once); call `release` before reusing its memory for other values.
 *
 * Byte accounting (TransferCounter) separates the one-off weight uploads from the per-call
 * traffic (inputs up, outputs down, transient operands up), which is what a token costs.
 * The allocator is an interface so the bookkeeping is the same code on any device.
 */

/** What the cache needs from a device: allocate, copy in, free. */
export interface DeviceAllocator<P> {
  alloc(bytes: number): P;
  upload(dst: P, src: ArrayBufferView, bytes: number): void;
  free(ptr: P): void;
}

export interface TransferStats {
  /** Per-call bytes host → device (inputs, transient operands). */
  hostToDeviceBytes: number;
  /** Per-call bytes device → host (outputs). */
  deviceToHostBytes: number;
  /** One-off bytes of resident weight uploads. */
  weightUploadBytes: number;
  weightUploads: number;
  /** Bytes and count of weights resident now. */
  residentBytes: number;
  residentWeights: number;
  /** Products run. */
  calls: number;
}

export class TransferCounter {
  readonly stats: TransferStats = { hostToDeviceBytes: 0, deviceToHostBytes: 0, weightUploadBytes: 0, weightUploads: 0, residentBytes: 0, residentWeights: 0, calls: 0 };

  /** A copy of the counters (for differences across a token). */
  snapshot(): TransferStats {
    return { ...this.stats };
  }
}

interface Entry<P, M> {
  ptr: P;
  bytes: number;
  meta: M;
  token: object;
}

/** The resident copies of one device. M is what the caller keeps beside the pointer (layout, dtype). */
export class ResidentWeights<P, M> {
  private readonly entries = new WeakMap<object, Entry<P, M>>();
  private readonly registry: FinalizationRegistry<{ ptr: P; bytes: number; token: object }>;
  private readonly live = new Set<object>();

  constructor(
    private readonly device: DeviceAllocator<P>,
    private readonly counter: TransferCounter,
  ) {
    this.registry = new FinalizationRegistry(({ ptr, bytes, token }) => this.drop(ptr, bytes, token));
  }

  /**
   * The device copy of `key`'s weight: uploaded on first use from `prepare()` (the device form of
   * the data, computed only then), reused afterwards.
   */
  get(key: object, prepare: () => { data: ArrayBufferView; meta: M }): { ptr: P; meta: M } {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const { data, meta } = prepare();
    const ptr = this.device.alloc(data.byteLength);
    try {
      this.device.upload(ptr, data, data.byteLength);
    } catch (e) {
      this.device.free(ptr);
      throw e;
    }
    const token = {};
    const entry: Entry<P, M> = { ptr, bytes: data.byteLength, meta, token };
    this.entries.set(key, entry);
    this.registry.register(key, { ptr, bytes: data.byteLength, token }, token);
    this.live.add(token);
    const s = this.counter.stats;
    s.weightUploadBytes += data.byteLength;
    s.weightUploads += 1;
    s.residentBytes += data.byteLength;
    s.residentWeights += 1;
    return entry;
  }

  has(key: object): boolean {
    return this.entries.has(key);
  }

  /** Frees `key`'s device copy now (no-op when it has none). */
  release(key: object): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.registry.unregister(entry.token);
    this.drop(entry.ptr, entry.bytes, entry.token);
  }

  private drop(ptr: P, bytes: number, token: object): void {
    if (!this.live.delete(token)) return;
    this.device.free(ptr);
    this.counter.stats.residentBytes -= bytes;
    this.counter.stats.residentWeights -= 1;
  }
}
