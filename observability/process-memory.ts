/**
 * Native memory a party holds beyond prom-client's defaults (`process_resident_memory_bytes`,
 * `nodejs_heap_size_used_bytes`, `nodejs_external_memory_bytes`): the bytes of ArrayBuffer
 * backing stores (process.memoryUsage().arrayBuffers: frames, shares, tensors) and the size of
 * the WebAssembly heaps (node-seal's BFV runtime; observability/wasm-heap.ts). RSS growth that
 * none of these follow is native memory outside V8 (onnxruntime, allocator fragmentation); where
 * the process runs on glibc (observability/glibc-malloc.ts) its heaps' figures say which: bytes
 * in use, bytes free inside the heaps (resident until trimmed), bytes mmapped on their own, and
 * what the process's malloc trimmer (observability/malloc-trimmer.ts) has given back.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { glibcMalloc, type MallocInfo } from './glibc-malloc.js';
import { bindJemallocStats, type JemallocStats } from './jemalloc-stats.js';
import { processMallocTrimmer, type MallocTrimStats } from './malloc-trimmer.js';
import { nativeAllocator } from './native-allocator.js';
import { wasmHeapBytes } from './wasm-heap.js';

/**
 * Adds `<prefix>array_buffers_bytes`, `<prefix>wasm_heap_bytes` and `<prefix>allocator_info` to
 * `registry`; where jemalloc is the process's malloc `<prefix>jemalloc_*_bytes`; and where the
 * process runs on glibc's malloc `<prefix>malloc_{heap,in_use,free,mmapped}_bytes` and
 * `<prefix>malloc_trims_total`, `<prefix>malloc_trim_released_bytes_total`,
 * `<prefix>malloc_trim_seconds_total`.
 */
export function registerProcessMemoryMetrics(registry: Registry, prefix: string): void {
  new Gauge({
    name: `${prefix}array_buffers_bytes`,
    help: 'Bytes of ArrayBuffer and SharedArrayBuffer backing stores (process.memoryUsage().arrayBuffers)',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().arrayBuffers);
    },
  });
  new Gauge({
    name: `${prefix}wasm_heap_bytes`,
    help: 'Bytes of the WebAssembly heaps (node-seal); a WASM heap never shrinks, so growth here is its high-water mark',
    registers: [registry],
    collect() {
      this.set(wasmHeapBytes());
    },
  });
  new Gauge({
    name: `${prefix}allocator_info`,
    help: 'The native allocator this process runs on (label allocator: glibc, jemalloc, tcmalloc, mimalloc, unknown; config/allocator.ts); always 1',
    labelNames: ['allocator'],
    registers: [registry],
    collect() {
      this.set({ allocator: nativeAllocator() }, 1);
    },
  });
  registerJemallocMetrics(registry, prefix);
  const malloc = glibcMalloc();
  if (!malloc) return;
  registerAllocatorFigures<MallocInfo>(registry, `${prefix}malloc_`, () => malloc.info(), [
    ['heap', 'heapBytes', 'Bytes glibc obtained from the kernel for its heaps (mallinfo2 arena), not counting chunks mmapped on their own'],
    ['in_use', 'inUseBytes', 'Bytes in glibc heap chunks in use (mallinfo2 uordblks)'],
    ['free', 'freeBytes', 'Bytes in free glibc heap chunks (mallinfo2 fordblks): resident until malloc_trim gives their pages back'],
    ['mmapped', 'mmappedBytes', 'Bytes in chunks glibc mmapped on their own (mallinfo2 hblkhd), unmapped when freed'],
  ]);
  const trimmer = processMallocTrimmer();
  const totals: [string, keyof MallocTrimStats, string][] = [
    ['trims_total', 'trims', 'malloc_trim(0) calls after sessions ended'],
    ['trim_released_bytes_total', 'releasedBytes', 'Drop of the resident set size across those trims (bytes)'],
    ['trim_seconds_total', 'seconds', 'Time those trims took (seconds, on a worker thread)'],
  ];
  for (const [name, key, help] of totals) {
    let reported = 0;
    new Counter({
      name: `${prefix}malloc_${name}`,
      help,
      registers: [registry],
      collect() {
        const value = trimmer.stats[key];
        if (value > reported) this.inc(value - reported);
        reported = value;
      },
    });
  }
}

/** `<prefix>jemalloc_{allocated,active,resident,mapped,retained}_bytes`, where jemalloc is the process's malloc (./jemalloc-stats.ts). */
function registerJemallocMetrics(registry: Registry, prefix: string): void {
  const stats = bindJemallocStats();
  if (!stats) return;
  registerAllocatorFigures<JemallocStats>(registry, `${prefix}jemalloc_`, stats, [
    ['allocated', 'allocatedBytes', 'Bytes in allocations the process holds (jemalloc stats.allocated)'],
    ['active', 'activeBytes', 'Bytes in active pages (jemalloc stats.active)'],
    ['resident', 'residentBytes', 'Bytes of jemalloc memory resident, including dirty pages not yet purged (stats.resident)'],
    ['mapped', 'mappedBytes', 'Bytes in jemalloc mapped extents (stats.mapped)'],
    ['retained', 'retainedBytes', 'Bytes kept mapped but returned to the kernel, not resident (stats.retained)'],
  ]);
}

/**
 * One `<prefix><name>_bytes` gauge per figure of an allocator's snapshot. The snapshot (mallinfo2
 * walks every arena under its lock; jemalloc refreshes its epoch) is taken once per scrape: the
 * gauges collect one after another within a few microseconds, so a snapshot younger than 100 ms
 * is reused.
 */
function registerAllocatorFigures<T>(registry: Registry, prefix: string, snapshot: () => T, figures: [name: string, key: keyof T, help: string][]): void {
  let last: { at: number; value: T } | undefined;
  const current = (): T => {
    const now = performance.now();
    if (!last || now - last.at > 100) last = { at: now, value: snapshot() };
    return last.value;
  };
  for (const [name, key, help] of figures) {
    new Gauge({
      name: `${prefix}${name}_bytes`,
      help,
      registers: [registry],
      collect() {
        this.set(Number(current()[key]));
      },
    });
  }
}
