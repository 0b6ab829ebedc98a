/**
 * Writes one `.safetensors` file (see safetensors-file.ts for the layout). Tensors are
 * converted and written one at a time; a tensor may be given lazily (a function producing
 * its float32 data) so that a multi-gigabyte synthetic model never has to exist in memory
 * all at once.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { encodeBf16, encodeF16 } from './half-float.js';
import { DTYPE_BYTES, toSafetensorsDtype, type WeightDtype } from './safetensors-dtype.js';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** Row-major float32 data, or a function that produces it when the writer gets to it. */
  data: Float32Array | (() => Float32Array);
}

const WRITE_CHUNK_VALUES = 4 * 1024 * 1024;

/** Number of bytes `tensor` takes in `dtype`. */
export function tensorBytes(shape: readonly number[], dtype: WeightDtype): number {
  return shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[toSafetensorsDtype(dtype)];
}

export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  dtype: WeightDtype,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const stDtype = toSafetensorsDtype(dtype);
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const size = tensorBytes(t.shape, dtype);
    header[t.name] = { dtype: stDtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  // Pad the JSON with spaces so the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.length));

  const handle = await open(path, 'w');
  try {
    await handle.write(prefix);
    await handle.write(jsonBytes);
    for (const t of tensors) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) {
        throw new RangeError(`writeSafetensors: tensor ${t.name} has ${data.length} values, shape [${t.shape.join(', ')}] needs ${expected}`);
      }
      if (dtype === 'f32') {
        await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        continue;
      }
      const scratch = new Uint8Array(Math.min(data.length, WRITE_CHUNK_VALUES) * 2);
      for (let done = 0; done < data.length; done += WRITE_CHUNK_VALUES) {
        const part = data.subarray(done, Math.min(data.length, done + WRITE_CHUNK_VALUES));
        const bytes = scratch.subarray(0, part.length * 2);
        if (dtype === 'f16') encodeF16(part, bytes);
        else encodeBf16(part, bytes);
        await writeAll(handle, bytes);
      }
    }
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  // FileHandle.write may write less than asked for very large buffers; loop, in bounded chunks.
  const chunk = 256 * 1024 * 1024;
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(chunk, bytes.length - done));
    done += bytesWritten;
  }
}
