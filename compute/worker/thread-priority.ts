/**
 * Scheduling priority of a compute worker thread (issue 15: heartbeats and health answer within
 * 100 ms under full load).
 *
 * A party's event loop does little per turn (a slice of at most compute/event-loop-slices.ts's
 * budget); its compute workers run long products. When the machine's cores are all busy, the
 * kernel shares them out evenly among runnable threads, so a main thread that is ready to answer
 * a heartbeat waits behind the workers (and their onnxruntime threads) for most of a scheduling
 * period. Measured by scripts/stall-profile.ts on 2 cores before this: stalls over 100 ms were
 * all time spent waiting for a CPU, never the main thread's own work.
 *
 * Contract: a worker calls lowerThisThreadPriority() first, before it creates any onnxruntime
 * session, so the intra-op threads those sessions start inherit the lower priority (Linux gives a
 * new thread its creator's nice value). On Linux, setpriority(PRIO_PROCESS, tid) applies to the
 * one thread named by tid (nice values are per thread there); the thread id comes from
 * /proc/thread-self. Raising one's own nice value needs no privilege. Elsewhere, or where /proc
 * is missing, it does nothing and says so in its result. The order of work is unchanged, so
 * results are the same bit for bit.
 */
import { readlinkSync } from 'node:fs';
import { constants, getPriority, setPriority } from 'node:os';

/** The nice value compute threads run at: the lowest (19), so the event loops (0) come first whenever both are ready. */
export const COMPUTE_THREAD_NICE = constants.priority.PRIORITY_LOW;

/** This thread's kernel id on Linux, else undefined. */
export function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** Lowers the calling thread's priority to COMPUTE_THREAD_NICE; returns the nice value it now has, or undefined where it cannot. */
export function lowerThisThreadPriority(nice = COMPUTE_THREAD_NICE): number | undefined {
  const tid = currentThreadId();
  if (tid === undefined) return undefined;
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
