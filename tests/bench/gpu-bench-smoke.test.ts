/**
 * `permllm bench gpu` on the tiny shape (a smoke run: the figures are printed by the bench, never
 * asserted here): every row the report promises is there, on the CPU everywhere and on the GPU
 * where one is usable, with the GPU's per-token bus traffic equal to the messages only.
 */
import { describe, expect, it } from 'vitest';
import { GPU_BENCH_SHAPES, gpuBenchMarkdown, layerProducts, runGpuComputeBench } from '../../bench/gpu-compute.js';
import { SMALL_PRODUCT_MACS } from '../../compute/ring-gemm.js';
import { cudaAvailability } from '../helpers/cuda-availability.js';

describe('permllm bench gpu (tiny shape)', () => {
  it(`reports CPU rows${cudaAvailability().available ? ' and GPU rows with message-only bus traffic' : ' and says why there are no GPU rows'}`, async () => {
    const shape = GPU_BENCH_SHAPES['tiny']!;
    const r = await runGpuComputeBench({ shape, device: 'auto', decodeTokens: 2, prefillTokens: 16, cpuPrefillRows: 8, fullModel: true, parties: true, log: () => undefined });
    const key = (x: { device: string; party: string; scope: string; phase: string }) => `${x.device} ${x.party} ${x.scope} ${x.phase}`;
    const keys = r.rows.map(key);
    for (const k of ['cpu engine layer decode', 'cpu engine head decode', 'cpu engine layer prefill', 'cpu engine model decode', 'cpu gateway/dealer layer decode', 'cpu gateway/dealer layer prefill']) expect(keys).toContain(k);
    expect(r.rows.every((x) => Number.isFinite(x.ms) && x.ms > 0)).toBe(true);
    const md = gpuBenchMarkdown(r);
    expect(md).toMatch(/\| cpu \| engine \| layer \| decode \| 1 \|/);
    if (!r.device) {
      expect(r.gpuUnavailable).toMatch(/CUDA device unavailable/);
      expect(md).toMatch(/GPU: none \(CUDA device unavailable/);
      return;
    }
    for (const k of ['cuda engine layer decode', 'cuda engine head decode', 'cuda engine layer prefill', 'cuda engine model decode', 'cuda engine model prefill', 'cuda gateway/dealer layer decode']) expect(keys).toContain(k);
    // A decode token moves its input shares up and its outputs down, 8 bytes each, nothing else
    // (products at or below the small-product cut run in JS and cross nothing).
    const decode = r.rows.find((x) => key(x) === 'cuda engine layer decode')!;
    const products = layerProducts(shape).filter(([, outDim, inDim]) => outDim * inDim > SMALL_PRODUCT_MACS);
    expect(products.length).toBeGreaterThan(0);
    expect(decode.hostToDeviceBytes).toBe(products.reduce((s, [, , inDim]) => s + 8 * inDim, 0));
    expect(decode.deviceToHostBytes).toBe(products.reduce((s, [, outDim]) => s + 8 * outDim, 0));
    expect(r.notes.filter((n) => /during timing/.test(n))).toEqual([]);
  });
});
