/**
 * Event-loop stalls of role processes, as recorded by tests/helpers/stall-trace.mjs (preloaded
 * with `--import`): each window in which the process's 5 ms timer did not run for longer than
 * the threshold, with the main thread's time on a CPU and waiting for one meanwhile (Linux
 * schedstat). The run time is the stall this process's own work caused; the wait is the
 * machine's load (on a shared 2-core machine most of a stall's wall time).
 *
 *   const flags = stallTraceFlags(dir);              // startThreeParties({ execArgv: { engine: flags, ... } })
 *   ... load ...; await parties.stop();              // the trace is written at exit
 *   const stalls = await readStallWindows(dir, from, to);
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './processes.js';

export interface StallWindow {
  /** Monotonic clock, µs (process.hrtime; the clock of V8's CPU profiles). */
  from: number;
  to: number;
  ms: number;
  /** The main thread's time on a CPU within the window (ms; NaN without schedstat). */
  runMs: number;
  /** The main thread's time runnable but waiting for a CPU (ms). */
  waitMs: number;
}

/** Node flags that preload the stall trace, writing into `dir` (which must exist) at exit. */
export function stallTraceFlags(dir: string, thresholdMs = 50): string[] {
  const url = pathToFileURL(path.join(repoRoot, 'tests/helpers/stall-trace.mjs'));
  url.search = new URLSearchParams({ dir, ms: String(thresholdMs) }).toString();
  return ['--import', url.href];
}

/** Now on the clock of the windows (µs). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The stall windows a process wrote into `dir` that overlap [fromUs, toUs]. */
export async function readStallWindows(dir: string, fromUs = 0, toUs = Number.POSITIVE_INFINITY): Promise<StallWindow[]> {
  const file = (await readdir(dir)).find((f) => f.startsWith('stall-trace-'));
  if (!file) throw new Error(`no stall trace in ${dir} (did the process exit normally?)`);
  const raw = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as [number, number, number | null, number | null][];
  return raw
    .filter(([a, b]) => b >= fromUs && a <= toUs)
    .map(([a, b, run, wait]) => ({ from: a, to: b, ms: (b - a) / 1000, runMs: run === null ? Number.NaN : run / 1000, waitMs: wait === null ? Number.NaN : wait / 1000 }));
}
