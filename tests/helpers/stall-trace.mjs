/**
 * Preload for diagnostics (`node --import ./tests/helpers/stall-trace.mjs ...`; tests/helpers/stall-windows.ts
 * uses it): records every window in which this process's event loop did not run a 5 ms timer
 * for longer than `ms` (default 50) ms, as [start, end, run, wait] in µs of the monotonic clock that V8's CPU
 * profiles use, and writes them to `<dir>/stall-trace-<pid>.json` (default: the working folder)
 * when the process exits. Options ride on the specifier's query, since a party process gets
 * no extra environment: `--import file:///…/stall-trace.mjs?dir=/tmp/x&ms=50`. A window is a stall:
 * nothing else ran meanwhile (or the OS did not schedule the process). With each window go the
 * main thread's time on a CPU and its time waiting for one (Linux schedstat, ns): a window of
 * little run time was the machine's load, not this process's work.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const options = new URL(import.meta.url).searchParams;
const threshold = Number(options.get('ms') ?? 50) * 1000;
const file = `${options.get('dir') ?? '.'}/stall-trace-${process.pid}.json`;
const now = () => Number(process.hrtime.bigint() / 1000n);
// The main thread's task id is the process id.
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const sched = () => {
  try {
    const [run, wait] = readFileSync(schedstat, 'utf8').split(' ').map(Number);
    return [run, wait];
  } catch {
    return [Number.NaN, Number.NaN];
  }
};
const windows = [];
let last = now();
let lastSched = sched();
setInterval(() => {
  const t = now();
  const s = sched();
  if (t - last > threshold) windows.push([last, t, Math.round((s[0] - lastSched[0]) / 1000), Math.round((s[1] - lastSched[1]) / 1000)]);
  last = t;
  lastSched = s;
}, 5).unref();
process.on('exit', () => writeFileSync(file, JSON.stringify(windows)));
