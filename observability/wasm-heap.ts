/**
 * The size of the WebAssembly heaps this process instantiates (node-seal's, for the token
 * lookup), read from their WebAssembly.Memory objects. A WASM heap never shrinks, so "stays
 * flat" means this figure stops changing; unlike process.memoryUsage().external it does not
 * move with JS buffers between garbage collections.
 *
 * Importing this module wraps WebAssembly.instantiate to note every memory a module exports
 * or imports; node-seal instantiates lazily (at the first getBfvRuntime()), so importing this
 * at the top of a test file is early enough. A test should check wasmHeapCount() > 0: a heap
 * instantiated before the hook would go unseen.
 */

// The lib has no DOM types, so the WebAssembly JS API is typed here as far as it is used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  instantiate: (...args: unknown[]) => Promise<unknown>;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const memories: WasmMemory[] = [];
const instantiate = wasm.instantiate.bind(wasm);

const note = (values: Iterable<unknown>): void => {
  for (const value of values) if (value instanceof wasm.Memory && !memories.includes(value)) memories.push(value);
};

wasm.instantiate = async (...args: unknown[]): Promise<unknown> => {
  const result = await instantiate(...args);
  type Instance = { exports: Record<string, unknown> };
  const instance = (result as { instance?: Instance }).instance ?? (result as Instance);
  note(Object.values(instance.exports));
  for (const module of Object.values((args[1] ?? {}) as Record<string, Record<string, unknown>>)) note(Object.values(module));
  return result;
};

/** Bytes of all WebAssembly heaps instantiated since this module was imported. */
export function wasmHeapBytes(): number {
  return memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
}

/** How many WebAssembly heaps have been seen. */
export function wasmHeapCount(): number {
  return memories.length;
}
