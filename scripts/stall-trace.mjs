/**
 * Preload for diagnostics (`node --import ./scripts/stall-trace.mjs ...`; scripts/stall-profile.ts
 * uses it): records every window in which this process's event loop did not run a 5 ms timer
 * for longer than `ms` (default 50) ms, as [start, end] in µs of the monotonic clock that V8's CPU
 * profiles use, and writes them to `<dir>/stall-trace-<pid>.json` (default: the working folder)
 * when the process exits. Options ride on the specifier's query, since a party process gets
 * no extra environment: `--import file:///…/stall-trace.mjs?dir=/tmp/x&ms=50`. A window is a stall:
 * nothing else ran meanwhile (or the OS did not schedule the process).
 */
import { writeFileSync } from 'node:fs';

const options = new URL(import.meta.url).searchParams;
const threshold = Number(options.get('ms') ?? 50) * 1000;
const file = `${options.get('dir') ?? '.'}/stall-trace-${process.pid}.json`;
const now = () => Number(process.hrtime.bigint() / 1000n);
const windows = [];
let last = now();
setInterval(() => {
  const t = now();
  if (t - last > threshold) windows.push([last, t]);
  last = t;
}, 5).unref();
process.on('exit', () => writeFileSync(file, JSON.stringify(windows)));
