/**
 * `permllm bench gpu`: the parties' weight products per token on the CPU and on the GPU, at the
 * Llama-3.1-8B layer shapes (preset llama3-8b-layer: dim 4096, GQA 32:8, hidden 14336, head
 * 4096 → 128256) and, where it fits in device memory, the whole 8B shape (32 layers + head).
 *
 * What is timed is the ring64 profile's MulW products as the protocol runs them
 * (compute/ring-gemm.ts, ringLinearPlanar): the engine (P0) multiplies ring shares by its int16
 * weights (planar int16, 2 B per parameter); the gateway and the dealer (P1, P2) multiply by ring
 * weights (planar ring, 8 B per parameter). Per layer: q, k, v, o, gate, up, down. Attention's
 * per-head products, norms, nonlinearities and the links are not in these figures (bench/README.md
 * has the end-to-end bench). Weights are random (timing does not depend on values); the 8B shape
 * repeats one random layer's values in 32 distinct device buffers, so the device holds and reads
 * the full model's bytes. Figures are printed, never asserted.
 */
import { randomFillSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComputeBackend } from '../compute/compute-backend.js';
import { CudaBackend } from '../compute/cuda/cuda-backend.js';
import { CudaUnavailableError } from '../compute/cuda/cuda-library.js';
import { OnnxCpuBackend } from '../compute/onnx-backend.js';
import { ringLinearPlanar } from '../compute/ring-gemm.js';
import type { Int16Planes, PlanarWeight, RingPlanes } from '../compute/ring-weight.js';
import { SYNTHETIC_PRESETS } from '../model/synthetic/synthetic-spec.js';
import { SYNTHETIC_TOKENIZER_SIZES } from '../model/synthetic/synthetic-tokenizer-files.js';

export interface LayerShape {
  name: string;
  dim: number;
  hiddenDim: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
  /** Depth of the whole model this layer belongs to. */
  nLayers: number;
}

const l8 = SYNTHETIC_PRESETS['llama3-8b-layer'];
export const GPU_BENCH_SHAPES: Record<string, LayerShape> = {
  'llama3-8b-layer': { name: 'Llama-3.1-8B', dim: l8.dim, hiddenDim: l8.hiddenDim, nHeads: l8.nHeads, nKvHeads: l8.nKvHeads, vocab: SYNTHETIC_TOKENIZER_SIZES.llama3, nLayers: 32 },
  /** A small shape for smoke runs (tests, machines without a GPU). */
  tiny: { name: 'tiny (dim 128)', dim: 128, hiddenDim: 384, nHeads: 4, nKvHeads: 2, vocab: 2000, nLayers: 4 },
};

/** The weight products of one layer: [name, outDim, inDim]. */
export function layerProducts(s: LayerShape): [string, number, number][] {
  const head = s.dim / s.nHeads;
  return [
    ['q', s.nHeads * head, s.dim],
    ['k', s.nKvHeads * head, s.dim],
    ['v', s.nKvHeads * head, s.dim],
    ['o', s.dim, s.nHeads * head],
    ['gate', s.hiddenDim, s.dim],
    ['up', s.hiddenDim, s.dim],
    ['down', s.dim, s.hiddenDim],
  ];
}

type Party = 'engine' | 'gateway/dealer';

interface Weights {
  layer: { w: PlanarWeight; outDim: number; inDim: number }[];
  /** The engine's only (the head is timed once, for the engine). */
  head: { w: PlanarWeight; outDim: number; inDim: number } | undefined;
}

/** Random planar weights: int16 planes (any bytes are valid) or ring signed-digit planes (any bytes are valid digits). */
function randomPlanar(party: Party, outDim: number, inDim: number): PlanarWeight {
  const n = outDim * inDim;
  if (party === 'engine') {
    const w: Int16Planes = { kind: 'int16', lo: new Uint8Array(n), hi: new Int8Array(n) };
    randomFillSync(w.lo);
    randomFillSync(w.hi);
    return w;
  }
  const w: RingPlanes = { kind: 'ring', bytes: new Int8Array(8 * n) };
  for (let off = 0; off < w.bytes.length; off += 1 << 30) randomFillSync(w.bytes, off, Math.min(1 << 30, w.bytes.length - off));
  return w;
}

/** Another host array over the same bytes: a distinct weight to the device cache (a second resident copy). */
function alias(w: PlanarWeight): PlanarWeight {
  return w.kind === 'int16' ? { kind: 'int16', lo: new Uint8Array(w.lo.buffer), hi: new Int8Array(w.hi.buffer) } : { kind: 'ring', bytes: new Int8Array(w.bytes.buffer) };
}

function randomWeights(party: Party, s: LayerShape): Weights {
  return {
    layer: layerProducts(s).map(([, outDim, inDim]) => ({ w: randomPlanar(party, outDim, inDim), outDim, inDim })),
    head: party === 'engine' ? { w: randomPlanar(party, s.vocab, s.dim), outDim: s.vocab, inDim: s.dim } : undefined,
  };
}

function randomRing(n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  randomFillSync(a);
  return a;
}

/** One pass over `layers` layers (each its own weights) and optionally the head, at `rows` rows: ms. */
async function pass(backend: ComputeBackend, layers: Weights['layer'][], head: Weights['head'], rows: number): Promise<number> {
  const inputs = new Map<number, BigUint64Array>();
  const input = (inDim: number) => {
    let x = inputs.get(inDim);
    if (!x) inputs.set(inDim, (x = randomRing(rows * inDim)));
    return x;
  };
  const t0 = performance.now();
  for (const layer of layers) for (const { w, outDim, inDim } of layer) await ringLinearPlanar(backend, input(inDim), rows, w, outDim, inDim);
  if (head) await ringLinearPlanar(backend, input(head.inDim), rows, head.w, head.outDim, head.inDim);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface GpuBenchRow {
  device: 'cpu' | 'cuda';
  party: Party;
  scope: 'layer' | 'head' | 'model';
  phase: 'decode' | 'prefill';
  /** Rows (tokens) per pass. */
  tokens: number;
  /** ms for the pass (decode: per token; prefill: for all `tokens`). */
  ms: number;
  /** How the figure was obtained. */
  how: 'measured' | string;
  /** Per-call bytes host → device / device → host per pass (GPU only). */
  hostToDeviceBytes?: number;
  deviceToHostBytes?: number;
}

export interface GpuBenchResult {
  shape: LayerShape;
  device?: { name: string; computeCapability: number; totalMemory: number; driverVersion: number };
  gpuUnavailable?: string;
  rows: GpuBenchRow[];
  /** Per party, after its figures: device memory and the one-off uploads. */
  memory: { party: Party; residentBytes: number; usedBytes: number; totalBytes: number; scratchBytes: number; firstLayerUploadMs: number; weightUploadBytes: number }[];
  notes: string[];
}

export interface GpuBenchOptions {
  shape: LayerShape;
  /** cpu: CPU only; cuda: CPU and GPU (fails without one); auto: the GPU when usable. */
  device: 'cpu' | 'cuda' | 'auto';
  decodeTokens: number;
  prefillTokens: number;
  /** CPU prefill is measured at this many rows and scaled to prefillTokens (products are linear in rows). */
  cpuPrefillRows: number;
  /** Also the whole model on the GPU (nLayers distinct resident layers + head), if it fits. */
  fullModel: boolean;
  /** Also the gateway/dealer's ring × ring products (layer decode and prefill). */
  parties: boolean;
  cpuThreads?: number;
  log: (line: string) => void;
}

async function timeDecode(backend: ComputeBackend, layers: Weights['layer'][], head: Weights['head'], tokens: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < tokens; i++) times.push(await pass(backend, layers, head, 1));
  return median(times);
}

export async function runGpuComputeBench(o: GpuBenchOptions): Promise<GpuBenchResult> {
  const s = o.shape;
  const result: GpuBenchResult = { shape: s, rows: [], memory: [], notes: [] };
  let gpu: CudaBackend | undefined;
  if (o.device !== 'cpu') {
    try {
      gpu = CudaBackend.open();
      result.device = { name: gpu.lib.deviceName, computeCapability: gpu.lib.computeCapability, totalMemory: gpu.lib.totalMemory, driverVersion: gpu.lib.driverVersion };
      o.log(`GPU: ${gpu.lib.deviceName}, ${(gpu.lib.totalMemory / 2 ** 30).toFixed(1)} GiB`);
    } catch (error) {
      if (o.device === 'cuda' || !(error instanceof CudaUnavailableError)) throw error;
      result.gpuUnavailable = error.message;
      o.log(`no GPU: ${error.message}`);
    }
  }
  const cpu = new OnnxCpuBackend(o.cpuThreads ?? 0);
  const parties: Party[] = o.parties ? ['engine', 'gateway/dealer'] : ['engine'];
  for (const party of parties) {
    o.log(`${party}: random ${party === 'engine' ? 'int16' : 'ring'} weights for one ${s.name} layer${party === 'engine' ? ' and the head' : ''}`);
    const weights = randomWeights(party, s);
    const head = weights.head;
    // CPU: one layer (+ head) decode, prefill at cpuPrefillRows scaled.
    o.log(`${party} CPU: decode (${o.decodeTokens} tokens)`);
    await pass(cpu, [weights.layer], undefined, 1); // warm-up (onnxruntime sessions)
    result.rows.push({ device: 'cpu', party, scope: 'layer', phase: 'decode', tokens: 1, ms: await timeDecode(cpu, [weights.layer], undefined, o.decodeTokens), how: 'measured' });
    if (head) result.rows.push({ device: 'cpu', party, scope: 'head', phase: 'decode', tokens: 1, ms: await timeDecode(cpu, [], head, Math.max(1, Math.min(3, o.decodeTokens))), how: 'measured' });
    o.log(`${party} CPU: prefill at ${o.cpuPrefillRows} rows`);
    const cpuPrefill = await pass(cpu, [weights.layer], undefined, o.cpuPrefillRows);
    result.rows.push({ device: 'cpu', party, scope: 'layer', phase: 'prefill', tokens: o.prefillTokens, ms: (cpuPrefill * o.prefillTokens) / o.cpuPrefillRows, how: o.cpuPrefillRows === o.prefillTokens ? 'measured' : `measured at ${o.cpuPrefillRows} rows, scaled ×${(o.prefillTokens / o.cpuPrefillRows).toFixed(1)}` });
    const cpuLayer = result.rows.find((r) => r.device === 'cpu' && r.party === party && r.scope === 'layer' && r.phase === 'decode')!.ms;
    const cpuHead = result.rows.find((r) => r.device === 'cpu' && r.party === party && r.scope === 'head')?.ms ?? 0;
    result.rows.push({ device: 'cpu', party, scope: 'model', phase: 'decode', tokens: 1, ms: s.nLayers * cpuLayer + cpuHead, how: `extrapolated: ${s.nLayers} × layer${head ? ' + head' : ''}` });
    if (!gpu) continue;

    o.log(`${party} GPU: upload one layer${head ? ' and the head' : ''}`);
    const uploadStart = performance.now();
    const before = gpu.stats();
    await pass(gpu, [weights.layer], head, 1); // uploads the weights
    const uploadMs = performance.now() - uploadStart;
    const measure = async (scope: GpuBenchRow['scope'], phase: GpuBenchRow['phase'], layers: Weights['layer'][], h: Weights['head'], rows: number, reps: number) => {
      const a = gpu!.stats();
      const ms = phase === 'decode' ? await timeDecode(gpu!, layers, h, reps) : await pass(gpu!, layers, h, rows);
      const b = gpu!.stats();
      const passes = phase === 'decode' ? reps : 1;
      result.rows.push({ device: 'cuda', party, scope, phase, tokens: rows, ms, how: 'measured', hostToDeviceBytes: (b.hostToDeviceBytes - a.hostToDeviceBytes) / passes, deviceToHostBytes: (b.deviceToHostBytes - a.deviceToHostBytes) / passes });
      if (b.weightUploads !== a.weightUploads) result.notes.push(`${party} ${scope} ${phase}: ${b.weightUploads - a.weightUploads} weight upload(s) during timing (should be 0)`);
    };
    await measure('layer', 'decode', [weights.layer], undefined, 1, o.decodeTokens);
    if (head) await measure('head', 'decode', [], head, 1, o.decodeTokens);
    await measure('layer', 'prefill', [weights.layer], undefined, o.prefillTokens, 1);
    let resident: Weights['layer'][] = [weights.layer];
    if (party === 'engine' && o.fullModel) {
      const perLayer = gpu.stats().residentBytes - before.residentBytes - (head ? 2 * head.outDim * head.inDim : 0);
      const { free, total } = gpu.lib.memInfo();
      const need = (s.nLayers - 1) * perLayer;
      if (need > free * 0.9) {
        result.notes.push(`whole ${s.name} shape skipped: ${(need / 2 ** 30).toFixed(1)} GiB more needed, ${(free / 2 ** 30).toFixed(1)} GiB free of ${(total / 2 ** 30).toFixed(1)}`);
      } else {
        o.log(`engine GPU: ${s.nLayers} resident layers + head (${((need + perLayer) / 2 ** 30).toFixed(1)} GiB of layers)`);
        const layers = [weights.layer, ...Array.from({ length: s.nLayers - 1 }, () => weights.layer.map((p) => ({ ...p, w: alias(p.w) })))];
        resident = layers;
        const t = performance.now();
        await pass(gpu, layers, head, 1); // uploads the other layers
        result.notes.push(`uploading ${s.nLayers - 1} more layers took ${((performance.now() - t) / 1000).toFixed(1)} s (once per process)`);
        await measure('model', 'decode', layers, head, 1, o.decodeTokens);
        o.log(`engine GPU: whole-model prefill of ${o.prefillTokens} tokens`);
        await measure('model', 'prefill', layers, head, o.prefillTokens, 1);
      }
    }
    const mem = gpu.memory();
    const after = gpu.stats();
    result.memory.push({ party, residentBytes: mem.residentBytes, usedBytes: mem.total - mem.free, totalBytes: mem.total, scratchBytes: mem.scratchBytes, firstLayerUploadMs: uploadMs, weightUploadBytes: after.weightUploadBytes - before.weightUploadBytes });
    o.log(`${party} GPU: ${(mem.residentBytes / 2 ** 30).toFixed(2)} GiB resident, ${((mem.total - mem.free) / 2 ** 30).toFixed(2)} GiB used on the device`);
    // Free this party's copies before the next party's weights go up.
    for (const layer of resident) for (const p of layer) gpu.release(p.w);
    if (head) gpu.release(head.w);
  }
  return result;
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
const fmtBytes = (b: number | undefined) => (b === undefined ? '' : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 2 ** 10).toFixed(1)} KiB`);

/** The result as a markdown report. */
export function gpuBenchMarkdown(r: GpuBenchResult): string {
  const lines = [
    `# Weight products per token: CPU vs GPU (${r.shape.name} shapes)`,
    '',
    r.device ? `GPU: ${r.device.name} (compute capability ${r.device.computeCapability / 10}, ${(r.device.totalMemory / 2 ** 30).toFixed(1)} GiB, driver ${r.device.driverVersion}).` : `GPU: none (${r.gpuUnavailable ?? 'not asked for'}).`,
    `Products: ring64 MulW as the protocol runs them (ringLinearPlanar); layer = q, k, v, o, gate, up, down (dim ${r.shape.dim}, hidden ${r.shape.hiddenDim}, GQA ${r.shape.nHeads}:${r.shape.nKvHeads}); head = ${r.shape.dim} → ${r.shape.vocab}; model = ${r.shape.nLayers} layers + head.`,
    '',
    '| device | party | scope | phase | tokens | time | per token | host→device / pass | device→host / pass | how |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.rows.map((x) => `| ${x.device} | ${x.party} | ${x.scope} | ${x.phase} | ${x.tokens} | ${fmtMs(x.ms)} | ${fmtMs(x.ms / x.tokens)} | ${fmtBytes(x.hostToDeviceBytes)} | ${fmtBytes(x.deviceToHostBytes)} | ${x.how} |`),
    '',
  ];
  for (const m of r.memory) lines.push(`- GPU memory, ${m.party}: ${(m.residentBytes / 2 ** 30).toFixed(2)} GiB of resident weights, ${(m.usedBytes / 2 ** 30).toFixed(2)} GiB in use of ${(m.totalBytes / 2 ** 30).toFixed(1)} GiB, ${fmtBytes(m.scratchBytes)} scratch; ${fmtBytes(m.weightUploadBytes)} of weights uploaded once; first layer (+ head) upload ${fmtMs(m.firstLayerUploadMs)}.`);
  for (const n of r.notes) lines.push(`- ${n}`);
  return `${lines.join('\n')}\n`;
}

export async function writeGpuBench(r: GpuBenchResult, outDir: string): Promise<{ json: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const json = path.join(outDir, 'gpu-compute.json');
  const markdown = path.join(outDir, 'gpu-compute.md');
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(markdown, gpuBenchMarkdown(r));
  return { json, markdown };
}
