/**
 * One direction of an emulated link: bytes leave in FIFO order at the link's bandwidth and
 * arrive one one-way delay after their last bit left. Shared by the in-process link wrapper
 * (emulated-link.ts) and the TCP relay (link-emulator.ts), so both emulate the same thing.
 */
export class LinkPacer {
  private wireFreeAt = 0;

  /**
   * @param oneWayMs added to every byte's arrival
   * @param bitsPerSecond bandwidth; Infinity for no pacing
   */
  constructor(
    readonly oneWayMs: number,
    readonly bitsPerSecond: number,
  ) {
    if (!(oneWayMs >= 0)) throw new RangeError(`oneWayMs must be >= 0, got ${oneWayMs}`);
    if (!(bitsPerSecond > 0)) throw new RangeError(`bitsPerSecond must be > 0, got ${bitsPerSecond}`);
  }

  /** True when the pacer changes nothing (no delay, no bandwidth limit). */
  get transparent(): boolean {
    return this.oneWayMs === 0 && !Number.isFinite(this.bitsPerSecond);
  }

  /** Schedules `bytes` handed to the link at `now` (ms, performance.now()); returns their arrival time. */
  schedule(bytes: number, now: number): number {
    const start = Math.max(now, this.wireFreeAt);
    const wire = Number.isFinite(this.bitsPerSecond) ? (bytes * 8 * 1000) / this.bitsPerSecond : 0;
    this.wireFreeAt = start + wire;
    return this.wireFreeAt + this.oneWayMs;
  }
}

/**
 * A FIFO of items released at (or after) their due times, by one timer at a time so that the
 * order never changes even when due times fall within the same millisecond.
 */
export class DueQueue<T> {
  private readonly items: { due: number; item: T }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly release: (item: T, due: number, at: number) => void) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T, due: number): void {
    if (this.stopped) return;
    this.items.push({ due, item });
    if (this.items.length === 1) this.arm();
  }

  /** Drops everything not yet released and stops. */
  stop(): void {
    this.stopped = true;
    this.items.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const head = this.items[0];
    if (!head || this.timer) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, head.due - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.items.length > 0 && this.items[0]!.due <= now + 0.05) {
      const { item, due } = this.items.shift()!;
      this.release(item, due, now);
      if (this.stopped) return;
    }
    this.arm();
  }
}
