/** The WebAssembly heap figures for tests: observability/wasm-heap.ts (one place; the parties' /metrics use it too). */
export { wasmHeapBytes, wasmHeapCount } from '../../observability/wasm-heap.js';
