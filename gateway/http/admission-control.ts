/**
 * Bounded concurrency with a bounded queue. A request either gets a generation slot, waits in
 * the queue (at most `queueTimeoutMs`), or is refused at once with 429 + Retry-After when the
 * queue is full. Slots are released exactly once, whatever way the request ends.
 *
 * Retry-After is an estimate of the real wait, not a constant: how long a slot is held (a
 * moving average over recent requests) times the rounds of slots the queue ahead needs,
 * ceil((queued + 1) / maxConcurrent); `retryAfterSeconds` is its floor (and the answer before
 * any request has finished).
 */
import { RateLimitError } from '../errors/index.js';

export interface AdmissionLimits {
  maxConcurrent: number;
  maxQueue: number;
  queueTimeoutMs: number;
  retryAfterSeconds: number;
}

interface Waiter {
  grant: () => void;
}

/** Weight of the newest hold time in the moving average. */
const HOLD_AVERAGE_WEIGHT = 0.2;
/** Never tell a client to wait longer than this. */
const MAX_RETRY_AFTER_SECONDS = 3600;

export class AdmissionControl {
  private running = 0;
  private readonly waiters: Waiter[] = [];
  /** Moving average of how long a slot is held, in ms (undefined until one was released). */
  private averageHoldMs: number | undefined;

  constructor(private readonly limits: AdmissionLimits) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Whether a new request would be refused at once (every slot busy and the queue full). */
  get full(): boolean {
    return this.running >= this.limits.maxConcurrent && this.waiters.length >= this.limits.maxQueue;
  }

  /** Seconds a request arriving now can expect to wait for a slot (see the class comment). */
  retryAfterSeconds(): number {
    const floor = this.limits.retryAfterSeconds;
    if (this.averageHoldMs === undefined) return floor;
    const rounds = Math.ceil((this.waiters.length + 1) / this.limits.maxConcurrent);
    const estimate = Math.ceil((rounds * this.averageHoldMs) / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(floor, estimate));
  }

  /**
   * Resolves with a release function once a slot is free. Rejects with RateLimitError when the
   * queue is full or the wait times out, and with the signal's reason when it aborts first.
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (this.running < this.limits.maxConcurrent && this.waiters.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.limits.maxQueue) {
      return Promise.reject(
        new RateLimitError(
          `Too many requests: ${this.running} generating and ${this.waiters.length} queued. Retry after ${this.retryAfterSeconds()} s.`,
          this.retryAfterSeconds(),
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const leave = () => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) this.waiters.splice(at, 1);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          this.running++;
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new RateLimitError(
            `Waited ${this.limits.queueTimeoutMs} ms in the queue without a free generation slot.`,
            this.retryAfterSeconds(),
          ),
        );
      }, this.limits.queueTimeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    const granted = performance.now();
    return () => {
      if (released) return;
      released = true;
      const heldMs = performance.now() - granted;
      this.averageHoldMs = this.averageHoldMs === undefined ? heldMs : this.averageHoldMs + HOLD_AVERAGE_WEIGHT * (heldMs - this.averageHoldMs);
      this.running--;
      this.waiters[0]?.grant();
    };
  }
}
