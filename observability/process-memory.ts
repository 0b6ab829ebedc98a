/**
 * Native memory a party holds beyond prom-client's defaults (`process_resident_memory_bytes`,
 * `nodejs_heap_size_used_bytes`, `nodejs_external_memory_bytes`): the bytes of ArrayBuffer
 * backing stores (process.memoryUsage().arrayBuffers: frames, shares, tensors) and the size of
 * the WebAssembly heaps (node-seal's BFV runtime; observability/wasm-heap.ts). RSS growth that
 * none of these follow is native memory outside V8 (onnxruntime, allocator fragmentation).
 */
import { Gauge, type Registry } from 'prom-client';
import { wasmHeapBytes } from './wasm-heap.js';

/** Adds `<prefix>array_buffers_bytes` and `<prefix>wasm_heap_bytes` to `registry`. */
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
}
