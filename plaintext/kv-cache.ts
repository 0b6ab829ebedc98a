/**
 * Keys and values of one sequence, per layer: rows [position, nKvHeads·headDim]. Storage grows
 * by doubling up to the model's context length, so short sequences of long-context models do
 * not pay for the whole window up front.
 */
export class KvCache {
  private keys: Float32Array[];
  private values: Float32Array[];
  private capacity: number;
  /** Number of positions stored (the same for every layer once a forward pass completes). */
  length = 0;

  constructor(
    readonly nLayers: number,
    readonly rowWidth: number,
    readonly maxSeqLen: number,
    initialCapacity = 64,
  ) {
    this.capacity = Math.min(maxSeqLen, initialCapacity);
    this.keys = Array.from({ length: nLayers }, () => new Float32Array(this.capacity * rowWidth));
    this.values = Array.from({ length: nLayers }, () => new Float32Array(this.capacity * rowWidth));
  }

  /** Makes room for positions up to (excluding) `end`. */
  reserve(end: number): void {
    if (end > this.maxSeqLen) throw new RangeError(`KV cache: position ${end - 1} beyond the context length ${this.maxSeqLen}`);
    if (end <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < end) capacity = Math.min(this.maxSeqLen, capacity * 2);
    const grow = (old: Float32Array) => {
      const next = new Float32Array(capacity * this.rowWidth);
      next.set(old.subarray(0, this.length * this.rowWidth));
      return next;
    };
    this.keys = this.keys.map(grow);
    this.values = this.values.map(grow);
    this.capacity = capacity;
  }

  /** Writes rows [rows, rowWidth] of keys and values for `layer` at positions start.. . */
  write(layer: number, start: number, keys: Float32Array, values: Float32Array, rows: number): void {
    this.reserve(start + rows);
    this.keys[layer]!.set(keys.subarray(0, rows * this.rowWidth), start * this.rowWidth);
    this.values[layer]!.set(values.subarray(0, rows * this.rowWidth), start * this.rowWidth);
  }

  keysOf(layer: number): Float32Array {
    return this.keys[layer]!;
  }

  valuesOf(layer: number): Float32Array {
    return this.values[layer]!;
  }
}
