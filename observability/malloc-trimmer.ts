/**
 * Gives the pages of freed native memory back to the kernel when the process goes idle after
 * sessions end, rate-limited.
 *
 * A session's native buffers (share frames, dealer material, ws and TLS buffers, onnxruntime
 * tensors) are freed when it ends, but glibc keeps their pages resident in its heaps, so each
 * party's RSS ratchets up to the highest peak of concurrent sessions it has seen and stays
 * (observability/glibc-malloc.ts). A party calls `sessionStarted()` and `sessionEnded()` around
 * each of its sessions; once none has run for `quietMs`, the trimmer runs `malloc_trim(0)` (so a
 * burst of endings costs one trim, and a session in the quiet time postpones it), never sooner
 * than `minIntervalMs` after the previous trim began.
 *
 * Only when idle: the trim runs on koffi's worker thread, but it holds each arena's lock while it
 * walks the free chunks and madvises their pages, and any malloc of the event loop waits
 * meanwhile. Trimming every 10 s under load (the first version) lowered RSS under load by 20–40
 * MiB in the soak, but each trim took 40–80 ms of wall time on the loaded machine and the longest
 * event-loop stalls were 2–4 times those of the run without trims (docs/deploy.md, Memory).
 * Where glibc or koffi is missing (`malloc` undefined) every method does nothing.
 *
 * One trimmer per process (`processMallocTrimmer`): malloc is process-wide, so the three
 * parties of an in-process deployment share one rate limit.
 */
import type { GlibcMalloc } from './glibc-malloc.js';
import { glibcMalloc } from './glibc-malloc.js';

export interface MallocTrimmerOptions {
  /** The allocator; undefined disables the trimmer. */
  malloc: GlibcMalloc | undefined;
  /** Wait after a session ends before trimming (coalesces a burst). Default 1,000 ms. */
  quietMs?: number;
  /** Least time between the starts of two trims. Default 10,000 ms. */
  minIntervalMs?: number;
  /** The resident set size now (bytes); default process.memoryUsage.rss. */
  rss?: () => number;
  /** Monotonic ms clock; default performance.now. */
  now?: () => number;
}

/** What the trimmer has done so far (exported as metrics by observability/process-memory.ts). */
export interface MallocTrimStats {
  trims: number;
  /** Sum over trims of the RSS drop across the trim (bytes; a trim that did not lower RSS adds 0). */
  releasedBytes: number;
  /** Sum of the trims' durations (seconds). */
  seconds: number;
}

export class MallocTrimmer {
  private readonly quietMs: number;
  private readonly minIntervalMs: number;
  private readonly rss: () => number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private active = 0;
  private lastEnd = Number.NEGATIVE_INFINITY;
  private closed = false;
  readonly stats: MallocTrimStats = { trims: 0, releasedBytes: 0, seconds: 0 };

  constructor(private readonly options: MallocTrimmerOptions) {
    this.quietMs = options.quietMs ?? 1_000;
    this.minIntervalMs = options.minIntervalMs ?? 10_000;
    this.rss = options.rss ?? (() => process.memoryUsage.rss());
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether trims can happen here (glibc through koffi). */
  get supported(): boolean {
    return this.options.malloc !== undefined;
  }

  /** Sessions of this process running now (as told by sessionStarted / sessionEnded). */
  get activeSessions(): number {
    return this.active;
  }

  /** A session started: no trim until all have ended. */
  sessionStarted(): void {
    this.active++;
  }

  /**
   * A session ended: when it was the last, trim once no session has run for `quietMs` (and not
   * before the interval since the last trim has passed).
   */
  sessionEnded(): void {
    this.active = Math.max(0, this.active - 1);
    this.lastEnd = this.now();
    if (this.active === 0) this.schedule(this.lastEnd + this.quietMs);
  }

  private schedule(notBefore: number): void {
    if (!this.options.malloc || this.closed || this.timer !== undefined) return;
    const at = Math.max(notBefore, this.lastStart + this.minIntervalMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Busy again: the next last ending schedules anew.
      if (this.active > 0) return;
      // A session ran in the quiet time: wait until it has been quiet for quietMs.
      if (this.now() < this.lastEnd + this.quietMs) return this.schedule(this.lastEnd + this.quietMs);
      // A trim still running takes this one with it.
      this.running ??= this.trimNow().finally(() => (this.running = undefined));
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  /** Trims at once (no rate limit); resolves when done. Failures are swallowed: a trim is only an optimisation. */
  async trimNow(): Promise<void> {
    const malloc = this.options.malloc;
    if (!malloc) return;
    this.lastStart = this.now();
    const before = this.rss();
    try {
      await malloc.trim();
    } catch {
      return;
    }
    this.stats.trims++;
    this.stats.releasedBytes += Math.max(0, before - this.rss());
    this.stats.seconds += (this.now() - this.lastStart) / 1000;
  }

  /** Cancels a pending trim and ignores later endings (server shutdown). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

let processTrimmer: MallocTrimmer | undefined;

/** The process-wide trimmer over this process's glibc (a no-op one where there is none). */
export function processMallocTrimmer(): MallocTrimmer {
  processTrimmer ??= new MallocTrimmer({ malloc: glibcMalloc() });
  return processTrimmer;
}
