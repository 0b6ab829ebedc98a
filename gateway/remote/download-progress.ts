/**
 * A progress bar on stderr for the masked-model download: redrawn in place (at most ten times a
 * second) on a terminal, one line per 10% otherwise (logs, CI, `npm start` behind a pipe).
 */
const MiB = 1024 * 1024;

export interface ProgressReporter {
  update(done: number): void;
  finish(message: string): void;
}

export function progressReporter(label: string, total: number, out: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const began = performance.now();
  let lastDraw = 0;
  let lastTenth = -1;
  const line = (done: number) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const seconds = Math.max(0.001, (performance.now() - began) / 1000);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${(done / MiB).toFixed(1)}/${(total / MiB).toFixed(1)} MiB ${(done / MiB / seconds).toFixed(1)} MiB/s`;
  };
  return {
    update(done) {
      if (out.isTTY) {
        const now = performance.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        out.write(`\r${line(done)}`);
        return;
      }
      const tenth = Math.floor((total > 0 ? done / total : 1) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        out.write(`${line(done)}\n`);
      }
    },
    finish(message) {
      out.write(out.isTTY ? `\r${line(total)}\n${message}\n` : `${message}\n`);
    },
  };
}
