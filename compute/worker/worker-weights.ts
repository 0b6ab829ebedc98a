/**
 * Which operands of a product the compute workers keep, and how the rest cross (the pool's side
 * of ./worker-messages.ts).
 *
 * A weight that outlives its call is stored in exactly one worker (its owner: key mod pool size),
 * sent there once and named by its key afterwards, like a GPU's resident copy
 * (compute/cuda/resident-weights.ts). So the pool holds one copy of each stored weight besides the
 * caller's, whatever its size; the price is that products with one weight always run on its
 * owner. A weight is stored on its first product when the caller says it outlives the call
 * (`resident`: ringLinear's default) or on its second (`repeat`: float weights and 8-bit planes,
 * which the interface does not mark). Keys live in a WeakMap keyed by the array that owns the
 * data; when that array is garbage-collected the workers are told to drop their copy
 * (FinalizationRegistry). Contract, as for device-resident weights: a weight is not mutated after
 * its first product.
 *
 * Everything else (inputs, attention's keys and values, single-use weights) is copied once into
 * a fresh buffer that is transferred with the request.
 */
import type { FloatArray } from '../compute-backend.js';
import type { RingWeight } from '../ring-weight.js';

export type Operand = FloatArray | RingWeight | Uint8Array | Int8Array;
export type KeepPolicy = 'resident' | 'repeat' | 'transient';

function viewsOf(w: Operand): ArrayBufferView[] {
  if (ArrayBuffer.isView(w)) return [w];
  return w.kind === 'int16' ? [w.lo, w.hi] : [w.bytes];
}

/** The array that owns a weight's data (a planar weight's wrapper object may be rebuilt, its planes are not). */
function identityOf(w: Operand): object {
  return ArrayBuffer.isView(w) ? w : w.kind === 'int16' ? w.lo : w.bytes;
}

function freshCopy<V extends ArrayBufferView>(v: V, transfer: ArrayBuffer[]): V {
  const Ctor = v.constructor as new (buffer: ArrayBuffer) => V;
  const buffer = new ArrayBuffer(v.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  transfer.push(buffer);
  return new Ctor(buffer);
}

/** `w` copied once into fresh buffers, which are added to `transfer`. */
export function copyForTransfer<T extends Operand>(w: T, transfer: ArrayBuffer[]): T {
  if (ArrayBuffer.isView(w)) return freshCopy(w, transfer);
  return (w.kind === 'int16' ? { kind: 'int16', lo: freshCopy(w.lo, transfer), hi: freshCopy(w.hi, transfer) } : { kind: 'ring', bytes: freshCopy(w.bytes, transfer) }) as T;
}

export function operandBytes(w: Operand): number {
  return viewsOf(w).reduce((n, v) => n + v.byteLength, 0);
}

export class WorkerWeights {
  private readonly keys = new WeakMap<object, number>();
  private readonly seen = new WeakSet<object>();
  private readonly registry: FinalizationRegistry<number>;
  private nextKey = 0;

  /** `gone(key)` is called once a stored weight's array has been garbage-collected. */
  constructor(gone: (key: number) => void) {
    this.registry = new FinalizationRegistry(gone);
  }

  /** The weight's key if workers keep it (assigned now on the first product that qualifies), else undefined. */
  keyOf(w: Operand, policy: KeepPolicy): number | undefined {
    if (policy === 'transient') return undefined;
    const id = identityOf(w);
    const known = this.keys.get(id);
    if (known !== undefined) return known;
    if (policy === 'repeat' && !this.seen.has(id)) {
      this.seen.add(id);
      return undefined;
    }
    const key = this.nextKey++;
    this.keys.set(id, key);
    this.registry.register(id, key);
    return key;
  }
}
