/**
 * Conversation reuse, engine and dealer side: the attention memories (K/V state) a finished
 * session leaves behind, kept for a while so that a follow-up session of the same conversation
 * can continue them instead of prefilling again (SessionParams.resume). Bounded three ways: by
 * the number of entries, by their bytes (oldest evicted first), and by a time-to-live. An entry
 * is taken at most once (the follow-up session appends to it), and only by the owner that left
 * it (the engine's user credential; the dealer has no user, so it passes none).
 *
 * A session that asks to be kept reserves its entry at its start, and fills it when it ends: the
 * follow-up's handshake may arrive before the previous session has wound down (the dealer is
 * still producing material ahead), so `take` waits for a reserved entry up to `settleMs`.
 */

export interface SessionStateCacheLimits {
  /** Most entries kept at once (0 = keep nothing). */
  maxEntries: number;
  /** Most bytes kept at once, over all entries. */
  maxBytes: number;
  /** An entry older than this (from when it was filled) is dropped. */
  ttlMs: number;
  /** How long `take` waits for a reserved entry to be filled. Default 5000. */
  settleMs?: number;
}

/** Defaults: a few conversations' worth of a small model. */
export const DEFAULT_STATE_CACHE_LIMITS: SessionStateCacheLimits = { maxEntries: 16, maxBytes: 256 * 1024 * 1024, ttlMs: 5 * 60_000 };

interface Entry<T> {
  owner: string;
  /** Filled when the session ended and left a state; undefined while reserved. */
  value?: { state: T; bytes: number; at: number };
  /** Resolves when the entry is filled or dropped. */
  settled: Promise<void>;
  settle: () => void;
}

export class SessionStateCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    readonly limits: SessionStateCacheLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limits.maxEntries > 0 && this.limits.maxBytes > 0 && this.limits.ttlMs > 0;
  }

  /** Entries held (filled or reserved), after dropping expired ones. */
  get size(): number {
    this.expire();
    return this.entries.size;
  }

  /** Bytes held by filled entries. */
  get bytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.value?.bytes ?? 0;
    return n;
  }

  /**
   * Reserves `id` for `owner`: returns the function the session calls once when it ends, with its
   * state (kept if it fits the limits) or undefined (nothing to keep). Returns undefined when the
   * cache is disabled or `id` is taken already.
   */
  reserve(id: string, owner: string): ((state: T | undefined, bytes: number) => void) | undefined {
    if (!this.enabled || this.entries.has(id)) return undefined;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const entry: Entry<T> = { owner, settled, settle };
    this.entries.set(id, entry);
    let done = false;
    return (state, bytes) => {
      if (done) return;
      done = true;
      if (this.entries.get(id) !== entry) return settle();
      if (state === undefined || bytes > this.limits.maxBytes) {
        this.entries.delete(id);
        return settle();
      }
      entry.value = { state, bytes, at: this.now() };
      this.evict();
      settle();
    };
  }

  /**
   * Removes and returns the state left under `id` by `owner` (waiting for a reserved one to be
   * filled); undefined when there is none, it expired, it belongs to another owner, or it is not
   * filled within `settleMs`.
   */
  async take(id: string, owner: string): Promise<T | undefined> {
    this.expire();
    const entry = this.entries.get(id);
    if (!entry || entry.owner !== owner) return undefined;
    if (!entry.value) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.limits.settleMs ?? 5000)));
      await Promise.race([entry.settled, timeout]);
      clearTimeout(timer);
    }
    if (this.entries.get(id) !== entry || !entry.value || this.expired(entry.value.at)) return undefined;
    this.entries.delete(id);
    return entry.value.state;
  }

  /** Drops every entry (shutdown). */
  clear(): void {
    for (const e of this.entries.values()) e.settle();
    this.entries.clear();
  }

  private expired(at: number): boolean {
    return this.now() - at > this.limits.ttlMs;
  }

  private expire(): void {
    for (const [id, e] of this.entries) if (e.value && this.expired(e.value.at)) this.entries.delete(id);
  }

  /** Oldest filled entries first, until both the count and the byte bound hold. */
  private evict(): void {
    this.expire();
    const filled = () => [...this.entries].filter(([, e]) => e.value).sort(([, a], [, b]) => a.value!.at - b.value!.at);
    while (this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes) {
      const [oldest] = filled();
      if (!oldest) break;
      this.entries.delete(oldest[0]);
    }
  }
}
