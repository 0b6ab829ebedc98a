/**
 * The resident-weight bookkeeping of the GPU backend, on a host allocator (the same code runs
 * over cudaMalloc / cudaMemcpy in cuda-backend.ts): one upload per weight, reuse afterwards,
 * explicit release, and byte counters that separate one-off uploads from per-call traffic.
 */
import { describe, expect, it } from 'vitest';
import { ResidentWeights, TransferCounter, type DeviceAllocator } from './resident-weights.js';

/** "Device" memory in host buffers, with a log of what was allocated, copied and freed. */
function hostAllocator() {
  const live = new Map<number, Uint8Array>();
  const log: string[] = [];
  let next = 1;
  const device: DeviceAllocator<number> & { live: typeof live; log: string[]; failUpload: boolean } = {
    live,
    log,
    failUpload: false,
    alloc(bytes) {
      const id = next++;
      live.set(id, new Uint8Array(bytes));
      log.push(`alloc ${id} ${bytes}`);
      return id;
    },
    upload(dst, src, bytes) {
      if (device.failUpload) throw new Error('upload failed');
      live.get(dst)!.set(new Uint8Array(src.buffer, src.byteOffset, bytes));
      log.push(`upload ${dst} ${bytes}`);
    },
    free(ptr) {
      if (!live.delete(ptr)) throw new Error(`double free of ${ptr}`);
      log.push(`free ${ptr}`);
    },
  };
  return device;
}

describe('resident device weights', () => {
  it('uploads a weight once, reuses it, and counts the upload apart from per-call traffic', () => {
    const device = hostAllocator();
    const counter = new TransferCounter();
    const cache = new ResidentWeights<number, string>(device, counter);
    const w = Int16Array.from([1, -2, 3, -4]);
    let prepared = 0;
    const prepare = () => {
      prepared++;
      return { data: w, meta: 'int16' };
    };
    const first = cache.get(w, prepare);
    const second = cache.get(w, prepare);
    expect(second.ptr).toBe(first.ptr);
    expect(second.meta).toBe('int16');
    expect(prepared).toBe(1);
    expect(new Int16Array(device.live.get(first.ptr)!.buffer)).toEqual(w);
    expect(counter.snapshot()).toMatchObject({ weightUploads: 1, weightUploadBytes: 8, residentBytes: 8, residentWeights: 1, hostToDeviceBytes: 0, deviceToHostBytes: 0 });
    expect(device.log).toEqual([`alloc ${first.ptr} 8`, `upload ${first.ptr} 8`]);
  });

  it('keys on the host array that owns the data: another array with equal contents is another weight', () => {
    const device = hostAllocator();
    const counter = new TransferCounter();
    const cache = new ResidentWeights<number, null>(device, counter);
    const a = new BigUint64Array([1n, 2n]);
    const b = new BigUint64Array([1n, 2n]);
    const pa = cache.get(a, () => ({ data: a, meta: null })).ptr;
    const pb = cache.get(b, () => ({ data: b, meta: null })).ptr;
    expect(pa).not.toBe(pb);
    expect(counter.stats).toMatchObject({ residentBytes: 32, residentWeights: 2, weightUploads: 2 });
  });

  it('release frees the device copy at once, once; a later product uploads again', () => {
    const device = hostAllocator();
    const counter = new TransferCounter();
    const cache = new ResidentWeights<number, null>(device, counter);
    const w = new Float64Array(16);
    const p = cache.get(w, () => ({ data: w, meta: null })).ptr;
    cache.release(w);
    cache.release(w);
    expect(device.live.has(p)).toBe(false);
    expect(cache.has(w)).toBe(false);
    expect(counter.stats).toMatchObject({ residentBytes: 0, residentWeights: 0, weightUploads: 1 });
    cache.get(w, () => ({ data: w, meta: null }));
    expect(counter.stats).toMatchObject({ residentBytes: 128, residentWeights: 1, weightUploads: 2 });
  });

  it('a failed upload frees its allocation and caches nothing', () => {
    const device = hostAllocator();
    const counter = new TransferCounter();
    const cache = new ResidentWeights<number, null>(device, counter);
    const w = new Uint8Array(10);
    device.failUpload = true;
    expect(() => cache.get(w, () => ({ data: w, meta: null }))).toThrow(/upload failed/);
    expect(device.live.size).toBe(0);
    expect(cache.has(w)).toBe(false);
    expect(counter.stats.residentBytes).toBe(0);
  });
});
