/** A growing [rows, width] ring matrix (K/V memories of the oracle and of the ring protocol). */
import type { Ring } from '../../compute/ring64.js';

export class RingRows {
  rows = 0;
  private data: Ring;
  constructor(
    readonly width: number,
    capacity: number,
  ) {
    this.data = new BigUint64Array(width * Math.max(1, capacity));
  }
  append(rows: Ring): void {
    if (rows.length % this.width !== 0) throw new RangeError(`RingRows: ${rows.length} elements is not a whole number of rows of ${this.width}`);
    const need = this.rows * this.width + rows.length;
    if (need > this.data.length) {
      const grown = new BigUint64Array(Math.max(need, 2 * this.data.length));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(rows, this.rows * this.width);
    this.rows += rows.length / this.width;
  }
  view(): Ring {
    return this.data.subarray(0, this.rows * this.width);
  }
  /** Keeps the first `rows` rows (conversation reuse: every party cuts its memory to the agreed length). */
  truncate(rows: number): void {
    if (!Number.isInteger(rows) || rows < 0 || rows > this.rows) throw new RangeError(`RingRows: cannot keep ${rows} of ${this.rows} rows`);
    this.rows = rows;
  }
  /** Bytes held (the allocation, not only the rows in use). */
  get bytes(): number {
    return this.data.byteLength;
  }
}
