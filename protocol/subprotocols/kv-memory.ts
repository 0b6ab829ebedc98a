/**
 * The attention memory one party holds for one layer (protocol.md, "MulKV"): the opened K and V
 * rows E = row − U_row (P0 and P1 alike) and this party's part of their Beaver masks U. Kept
 * apart from MulKV so that the party context can hold memories without importing the
 * sub-protocol that fills them.
 */

/** A growing [capacity, width] matrix of rows. */
class RowMatrix {
  rows = 0;
  data: Float64Array;
  constructor(
    readonly width: number,
    capacity: number,
  ) {
    this.data = new Float64Array(width * Math.max(1, capacity));
  }
  append(rows: Float64Array): void {
    const need = (this.rows * this.width) + rows.length;
    if (need > this.data.length) {
      const grown = new Float64Array(Math.max(need, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(rows, this.rows * this.width);
    this.rows += rows.length / this.width;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.rows * this.width);
  }
  /** Keeps the first `rows` rows (conversation reuse). */
  truncate(rows: number): void {
    if (!Number.isInteger(rows) || rows < 0 || rows > this.rows) throw new RangeError(`KvMemory: cannot keep ${rows} of ${this.rows} rows`);
    this.rows = rows;
  }
  get bytes(): number {
    return this.data.byteLength;
  }
}

/**
 * One layer's attention memory as one party holds it: the opened rows E (P0, P1) and this
 * party's part of the Beaver masks U (P0: U0, P1: U1, dealer: U = U0 + U1).
 */
export class KvMemory {
  readonly openedKeys: RowMatrix;
  readonly openedValues: RowMatrix;
  readonly keyMask: RowMatrix;
  readonly valueMask: RowMatrix;
  constructor(readonly kvDim: number, capacity: number) {
    this.openedKeys = new RowMatrix(kvDim, capacity);
    this.openedValues = new RowMatrix(kvDim, capacity);
    this.keyMask = new RowMatrix(kvDim, capacity);
    this.valueMask = new RowMatrix(kvDim, capacity);
  }
  get length(): number {
    return this.keyMask.rows;
  }
  /** Keeps the first `length` positions; a party that holds no opened rows (the dealer) has them empty. */
  truncate(length: number): void {
    for (const m of [this.keyMask, this.valueMask]) m.truncate(length);
    for (const m of [this.openedKeys, this.openedValues]) if (m.rows > 0) m.truncate(length);
  }
  get bytes(): number {
    return this.openedKeys.bytes + this.openedValues.bytes + this.keyMask.bytes + this.valueMask.bytes;
  }
}
