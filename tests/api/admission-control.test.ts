/**
 * AdmissionControl's own contract, in sessions: a request takes all its units at once or
 * waits in order (a large request is not overtaken by small ones, so it cannot starve), a
 * queued request that leaves lets the next in, the queue is bounded in sessions, and a request
 * larger than the budget is refused outright (it could never be granted).
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, RateLimitError } from '../../gateway/errors/index.js';
import { AdmissionControl } from '../../gateway/http/admission-control.js';

const limits = { maxConcurrent: 4, maxQueue: 8, queueTimeoutMs: 60_000, retryAfterSeconds: 1 };
const never = new AbortController().signal;

describe('AdmissionControl counts sessions', () => {
  it('grants whole requests in arrival order; a large queued request is not overtaken', async () => {
    const admission = new AdmissionControl(limits);
    const releaseA = await admission.acquire(never, 3);
    const order: string[] = [];
    const b = admission.acquire(never, 4).then((release) => (order.push('b'), release));
    // One unit is free, but the 4-session request is first in line.
    const c = admission.acquire(never, 1).then((release) => (order.push('c'), release));
    await Promise.resolve();
    expect(admission.inFlight).toBe(3);
    expect(admission.queued).toBe(5);
    expect(order).toEqual([]);
    releaseA();
    const releaseB = await b;
    expect(order).toEqual(['b']);
    expect(admission.inFlight).toBe(4);
    releaseB();
    releaseB(); // released exactly once
    (await c)();
    expect(order).toEqual(['b', 'c']);
    expect(admission.inFlight).toBe(0);
    expect(admission.queued).toBe(0);
  });

  it('a queued head that leaves lets the next request in', async () => {
    const admission = new AdmissionControl(limits);
    const release = await admission.acquire(never, 3);
    const leaving = new AbortController();
    const head = admission.acquire(leaving.signal, 4);
    const next = admission.acquire(never, 1);
    leaving.abort(new Error('client gone'));
    await expect(head).rejects.toThrow('client gone');
    (await next)();
    expect(admission.queued).toBe(0);
    release();
    expect(admission.inFlight).toBe(0);
  });

  it('bounds the queue in sessions and refuses a request beyond the budget', async () => {
    const admission = new AdmissionControl({ ...limits, maxQueue: 3 });
    const release = await admission.acquire(never, 4);
    expect(admission.full).toBe(false);
    const queued = admission.acquire(never, 3);
    expect(admission.full).toBe(true);
    await expect(admission.acquire(never, 1)).rejects.toBeInstanceOf(RateLimitError);
    await expect(admission.acquire(never, 5)).rejects.toBeInstanceOf(InvalidRequestError);
    release();
    (await queued)();
    expect(admission.full).toBe(false);
  });
});
