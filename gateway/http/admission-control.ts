/**
 * Bounded concurrency with a bounded queue, counted in backend sessions. Every choice of every
 * prompt is one private session (one engine slot, one dealer pairing, one key agreement), so a
 * request asks for `sessions = n × prompts` units at once and holds them until it ends: a
 * 64-prompt list with n = 8 needs 512 units, not one. A request either gets all its units,
 * waits in the queue (at most `queueTimeoutMs`, first come first served so a large request is
 * never starved by small ones), or is refused at once with 429 + Retry-After when the queue
 * has no room for its units. A request needing more units than `maxConcurrent` could never be
 * granted; the routes refuse it with 400 before it gets here, and `acquire` refuses it too.
 * Units are released exactly once, whatever way the request ends.
 *
 * Retry-After is an estimate of the real wait, not a constant: how long a request holds its
 * units (a moving average over recent requests) times the rounds of the session budget the
 * queue ahead plus this request need, ceil((queuedSessions + sessions) / maxConcurrent);
 * `retryAfterSeconds` is its floor (and the answer before any request has finished).
 */
import { InvalidRequestError, RateLimitError } from '../errors/index.js';

export interface AdmissionLimits {
  /** Backend sessions generating at once (the session budget). */
  maxConcurrent: number;
  /** Backend sessions allowed to wait for the budget; beyond that 429 at once. */
  maxQueue: number;
  queueTimeoutMs: number;
  retryAfterSeconds: number;
}

interface Waiter {
  sessions: number;
  grant: () => void;
}

/** Weight of the newest hold time in the moving average. */
const HOLD_AVERAGE_WEIGHT = 0.2;
/** Never tell a client to wait longer than this. */
const MAX_RETRY_AFTER_SECONDS = 3600;

export class AdmissionControl {
  private running = 0;
  private runningRequests = 0;
  private waitingSessions = 0;
  private readonly waiters: Waiter[] = [];
  /** Moving average of how long a request holds its sessions, in ms (undefined until one was released). */
  private averageHoldMs: number | undefined;

  constructor(
    private readonly limits: AdmissionLimits,
    /** Told when a request gets its sessions and after it releases them (ended), e.g. the malloc trimmer. */
    private readonly hooks?: { acquired(): void; released(): void },
  ) {}

  /** The session budget: the most sessions one request (or all together) may hold. */
  get capacity(): number {
    return this.limits.maxConcurrent;
  }

  /** Backend sessions generating now. */
  get inFlight(): number {
    return this.running;
  }

  /** Backend sessions waiting in the queue. */
  get queued(): number {
    return this.waitingSessions;
  }

  /** Requests holding sessions now. */
  get inFlightRequests(): number {
    return this.runningRequests;
  }

  /** Requests waiting in the queue. */
  get queuedRequests(): number {
    return this.waiters.length;
  }

  /** Whether a new one-session request would be refused at once (budget spent and queue full). */
  get full(): boolean {
    return this.running >= this.limits.maxConcurrent && this.waitingSessions >= this.limits.maxQueue;
  }

  /** Seconds a request of `sessions` arriving now can expect to wait (see the class comment). */
  retryAfterSeconds(sessions = 1): number {
    const floor = this.limits.retryAfterSeconds;
    if (this.averageHoldMs === undefined) return floor;
    const rounds = Math.ceil((this.waitingSessions + sessions) / this.limits.maxConcurrent);
    const estimate = Math.ceil((rounds * this.averageHoldMs) / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(floor, estimate));
  }

  /**
   * Resolves with a release function once `sessions` units are free. Rejects with
   * InvalidRequestError when `sessions` exceeds the budget (it could never be granted), with
   * RateLimitError when the queue has no room or the wait times out, and with the signal's
   * reason when it aborts first.
   */
  acquire(signal: AbortSignal, sessions = 1): Promise<() => void> {
    if (!Number.isInteger(sessions) || sessions < 1) return Promise.reject(new RangeError(`sessions must be a positive integer, got ${sessions}`));
    if (sessions > this.limits.maxConcurrent) {
      return Promise.reject(
        new InvalidRequestError(
          `This request needs ${sessions} backend sessions (n × prompts); this gateway runs at most ${this.limits.maxConcurrent} at once.`,
          { param: 'n' },
        ),
      );
    }
    if (this.waiters.length === 0 && this.running + sessions <= this.limits.maxConcurrent) {
      this.running += sessions;
      this.runningRequests++;
      return Promise.resolve(this.releaser(sessions));
    }
    if (this.waitingSessions + sessions > this.limits.maxQueue) {
      const wait = this.retryAfterSeconds(sessions);
      return Promise.reject(
        new RateLimitError(
          `Too many requests: ${this.running} sessions generating and ${this.waitingSessions} queued; this request needs ${sessions}. Retry after ${wait} s.`,
          wait,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const leave = () => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) {
          this.waiters.splice(at, 1);
          this.waitingSessions -= sessions;
        }
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        sessions,
        grant: () => {
          leave();
          this.running += sessions;
          this.runningRequests++;
          resolve(this.releaser(sessions));
        },
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
        // The head leaving may let the next one in.
        this.grantWaiting();
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new RateLimitError(
            `Waited ${this.limits.queueTimeoutMs} ms in the queue without ${sessions} free backend sessions.`,
            this.retryAfterSeconds(sessions),
          ),
        );
        this.grantWaiting();
      }, this.limits.queueTimeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.waitingSessions += sessions;
    });
  }

  /** Grants queued requests in order while the head fits in the free budget. */
  private grantWaiting(): void {
    for (;;) {
      const head = this.waiters[0];
      if (!head || this.running + head.sessions > this.limits.maxConcurrent) return;
      head.grant();
    }
  }

  private releaser(sessions: number): () => void {
    this.hooks?.acquired();
    let released = false;
    const granted = performance.now();
    return () => {
      if (released) return;
      released = true;
      const heldMs = performance.now() - granted;
      this.averageHoldMs = this.averageHoldMs === undefined ? heldMs : this.averageHoldMs + HOLD_AVERAGE_WEIGHT * (heldMs - this.averageHoldMs);
      this.running -= sessions;
      this.runningRequests--;
      this.grantWaiting();
      this.hooks?.released();
    };
  }
}
