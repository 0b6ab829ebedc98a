/**
 * Drawing the secret permutations of the decode step (issue 12, "per-call costs"), timed at
 * Llama-3.1-8B layer shapes and at a 128k vocabulary, with the GC time spent meanwhile. Run
 * with `npx tsx bench/permutation-timing.ts [keys]` (default 512 keys in the attention rows).
 *
 * One 8B decode layer draws: RMSNorm ×2 (row-wise 1 × 4096), softmax (row-wise 32 heads ×
 * keys), SwiGLU (flat 14,336); the LM head's π_out is flat over the vocabulary (128,256). Every
 * permutation is drawn by P0 and by the dealer alike (from k02). Median of the repeats.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Prg } from '../crypto/prg.js';
import { Permutation, type PermutationShape } from '../protocol/permutations/permutation.js';

export interface PermutationTimingRow {
  what: string;
  elements: number;
  ms: number;
  gcMs: number;
}

export function layerShapes(keys: number): { what: string; shapes: PermutationShape[] }[] {
  return [
    { what: '8B layer (2 norms, softmax, SwiGLU)', shapes: [{ kind: 'row-wise', rows: 1, cols: 4096 }, { kind: 'row-wise', rows: 32, cols: keys }, { kind: 'row-wise', rows: 1, cols: 4096 }, { kind: 'flat', length: 14336 }] },
    { what: 'π_out at a 128k vocabulary', shapes: [{ kind: 'flat', length: 128256 }] },
  ];
}

export async function timePermutations(keys = 512, repeats = 15): Promise<PermutationTimingRow[]> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const rows: PermutationTimingRow[] = [];
  try {
    for (const { what, shapes } of layerShapes(keys)) {
      const prg = Prg.random();
      const times: number[] = [];
      const gcs: number[] = [];
      for (let r = 0; r < repeats + 3; r++) {
        const gcBefore = gcMs;
        const t0 = performance.now();
        for (const shape of shapes) Permutation.draw(prg, shape);
        const t = performance.now() - t0;
        // GC entries are delivered on a later turn of the event loop.
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (r >= 3) {
          times.push(t);
          gcs.push(gcMs - gcBefore);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      const elements = shapes.reduce((n, s) => n + (s.kind === 'flat' ? s.length : s.rows * s.cols), 0);
      rows.push({ what, elements, ms: median(times), gcMs: gcs.reduce((a, b) => a + b, 0) / gcs.length });
    }
  } finally {
    observer.disconnect();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const keys = Number(process.argv[2] ?? 512);
  for (const row of await timePermutations(keys)) console.log(`${row.what.padEnd(40)} ${String(row.elements).padStart(7)} elements  ${row.ms.toFixed(2).padStart(7)} ms  (GC ${row.gcMs.toFixed(2)} ms per draw, mean)`);
}
