/**
 * A bounded pool of items that depend only on offline data, produced ahead of the online step
 * that uses them (issue 12: "everything that depends only on offline data is computed ahead").
 *
 * One producer runs in the background, one item at a time, whenever fewer than `capacity` items
 * are ready and fewer than `total` have been made; a producer that yields to the event loop
 * (e.g. TokenLookupClient.queryAhead, one ciphertext per turn) therefore fills the pool while
 * its party waits on a link. take() hands out items in production order and, when none is ready,
 * waits for the one being made. So at most `capacity` items (plus the one in production) exist
 * at any time, and at most `total` over the pool's life (a session's passes).
 *
 * dispose() (the end of a session) stops production and releases every item not taken; items
 * taken are the taker's to release. A producer failure rejects the next take().
 */
export interface AheadPoolOptions<T> {
  /** Items kept ready ahead of use (>= 1). */
  readonly capacity: number;
  /** Items ever produced (the number of uses the session can have). */
  readonly total: number;
  /** Makes one item; may yield to the event loop. */
  readonly produce: () => Promise<T>;
  /** Frees an item that was produced but never taken. */
  readonly release: (item: T) => void;
}

export class AheadPool<T> {
  private readonly ready: T[] = [];
  private producing: Promise<void> | null = null;
  private produced = 0;
  private taken = 0;
  private failure: { error: unknown } | null = null;
  private disposed = false;

  constructor(private readonly options: AheadPoolOptions<T>) {
    const { capacity, total } = options;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`AheadPool: capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`AheadPool: total must be a non-negative integer, got ${total}`);
    this.fill();
  }

  /** Items ready now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Items produced so far (taken, ready or released). */
  get producedCount(): number {
    return this.produced;
  }

  /** The next item, in production order; waits while it is being made. */
  async take(): Promise<T> {
    for (;;) {
      if (this.disposed) throw new Error('AheadPool: taken from after dispose()');
      if (this.failure) throw this.failure.error;
      const item = this.ready.shift();
      if (item !== undefined) {
        this.taken++;
        this.fill();
        return item;
      }
      if (this.taken >= this.options.total) throw new RangeError(`AheadPool: all ${this.options.total} items taken`);
      this.fill();
      await this.producing;
    }
  }

  /** Stops production and releases the items not taken. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.ready.splice(0)) this.options.release(item);
  }

  private fill(): void {
    if (this.producing || this.disposed || this.failure) return;
    if (this.ready.length >= this.options.capacity || this.produced >= this.options.total) return;
    this.produced++;
    this.producing = this.options.produce().then(
      (item) => {
        this.producing = null;
        if (this.disposed) this.options.release(item);
        else {
          this.ready.push(item);
          this.fill();
        }
      },
      (error: unknown) => {
        this.producing = null;
        if (!this.disposed) this.failure = { error };
      },
    );
  }
}
