/**
 * What a product costs in a compute worker against in-thread (compute/worker/), at the parties'
 * ring64 MulW shapes: the engine's int16 planes and the gateway's / dealer's ring planes, one
 * decode row and one prefill chunk (32 rows), at stories260K's widths and at a Llama-7B-like
 * layer. Every product here goes to the worker (no in-thread threshold of the pool), so the
 * difference is the round trip: posting the request, copying the input, the reply. Medians of
 * alternating rounds. Printed, never asserted.
 *
 *   npx tsx bench/compute-workers.ts [--reps 50] [--threads N]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { OnnxCpuBackend } from '../compute/onnx-backend.js';
import { planarInt16, planarRing, ringLinearPlanar, type PlanarWeight } from '../compute/ring-gemm.js';
import { WorkerPoolBackend } from '../compute/worker/worker-pool-backend.js';
import type { ComputeBackend } from '../compute/compute-backend.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '50' }, threads: { type: 'string' } } });
const reps = Number(values.reps);
const threads = values.threads === undefined ? 0 : Number(values.threads);
const inThread = new OnnxCpuBackend(threads);
const pool = new WorkerPoolBackend({ size: 1, intraOpThreads: threads, inlineMacs: 0 });

// Decode rows of stories260K (at most 32k multiply-accumulates) are computed in JS in-thread by
// compute/ring-gemm.ts before any backend is asked, so they are not listed.
const shapes: [string, number, number, number][] = [
  ['stories260K head (64→512) × 2 rows', 2, 512, 64],
  ['stories260K q, prefill chunk', 32, 64, 64],
  ['stories260K up (64→172), prefill chunk', 32, 172, 64],
  ['7B q (4096→4096), decode', 1, 4096, 4096],
  ['7B q, prefill chunk', 32, 4096, 4096],
];

async function msPerProduct(backend: ComputeBackend, x: BigUint64Array, rows: number, w: PlanarWeight, outDim: number, inDim: number, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await ringLinearPlanar(backend, x, rows, w, outDim, inDim);
  return (performance.now() - start) / n;
}

const ROUNDS = 5;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** Median over ROUNDS alternating rounds (in-thread, worker, in-thread, ...), after a warm-up of each. */
async function compare(x: BigUint64Array, rows: number, w: PlanarWeight, outDim: number, inDim: number, n: number): Promise<[number, number]> {
  const perRound = Math.max(1, Math.round(n / ROUNDS));
  await msPerProduct(inThread, x, rows, w, outDim, inDim, perRound); // JIT, sessions
  await msPerProduct(pool, x, rows, w, outDim, inDim, perRound); // the weight stored in its worker
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(await msPerProduct(inThread, x, rows, w, outDim, inDim, perRound));
    b.push(await msPerProduct(pool, x, rows, w, outDim, inDim, perRound));
  }
  return [median(a), median(b)];
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${reps} products each (fewer for the 7B shapes) in ${ROUNDS} alternating rounds, median ms per product`);
console.log('| shape | weight | in-thread | worker | worker − in-thread |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const [label, rows, outDim, inDim] of shapes) {
  const n = outDim * inDim > 1e6 ? Math.max(3, Math.floor(reps / 10)) : reps;
  const x = new BigUint64Array(randomBytes(8 * rows * inDim).buffer);
  const int16 = Int16Array.from({ length: outDim * inDim }, (_, i) => ((i * 7919) % 65535) - 32767);
  for (const [form, w] of [['int16 planes (engine)', planarInt16(int16, outDim, inDim)], ['ring planes (gateway, dealer)', planarRing(new BigUint64Array(randomBytes(8 * outDim * inDim).buffer), outDim, inDim)]] as const) {
    const [a, b] = await compare(x, rows, w, outDim, inDim, n);
    console.log(`| ${label} | ${form} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b - a).toFixed(3)} |`);
  }
}
await pool.close();
