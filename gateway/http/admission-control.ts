/**
 * Bounded concurrency with a bounded queue. A request either gets a generation slot, waits in
 * the queue (at most `queueTimeoutMs`), or is refused at once with 429 + Retry-After when the
 * queue is full. Slots are released exactly once, whatever way the request ends.
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

export class AdmissionControl {
  private running = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly limits: AdmissionLimits) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiters.length;
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
          `Too many requests: ${this.running} generating and ${this.waiters.length} queued. Retry after ${this.limits.retryAfterSeconds} s.`,
          this.limits.retryAfterSeconds,
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
            this.limits.retryAfterSeconds,
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
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiters[0]?.grant();
    };
  }
}
