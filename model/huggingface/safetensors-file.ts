/**
 * A reader for one `.safetensors` file: an 8-byte little-endian header length N, N bytes of
 * JSON mapping tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the first byte after the header), then the raw little-endian data.
 *
 * The header is parsed and checked once (every tensor's byte range must lie inside the file
 * and match its shape and dtype); tensors are then read one at a time with positioned reads,
 * so a multi-gigabyte checkpoint is never held in one buffer.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { z } from 'zod';
import { ModelLoadError } from '../model-errors.js';
import { decodeBf16, decodeF16 } from './half-float.js';
import { DTYPE_BYTES, isSupportedDtype, KNOWN_DTYPE_BYTES, type SafetensorsDtype } from './safetensors-dtype.js';

/** Headers beyond this are rejected before allocation (real ones are well under 1 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Positioned reads are capped below 2 GiB by Node; use a comfortable chunk. */
const READ_CHUNK_BYTES = 64 * 1024 * 1024;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file, [begin, end). */
  begin: number;
  end: number;
}

const tensorEntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

export class SafetensorsFile {
  private constructor(
    /** The path as given by the caller; used in every error. */
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>,
    /** The optional `__metadata__` string map. */
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Opens `path` and validates its header; throws ModelLoadError naming the file (and tensor). */
  static async open(path: string): Promise<SafetensorsFile> {
    if (endianness() !== 'LE') throw new ModelLoadError(path, 'safetensors data is little-endian; this host is big-endian');
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new ModelLoadError(path, `cannot open: ${(error as Error).message}`, { cause: error });
    }
    try {
      const { tensors, metadata } = await readHeader(path, handle);
      return new SafetensorsFile(path, handle, tensors, metadata);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): SafetensorsTensorInfo | undefined {
    return this.tensors.get(name);
  }

  /**
   * Reads tensor `name` as float32. `expectedShape`, when given, must match the stored shape
   * exactly. F16 and BF16 are widened exactly; other dtypes are rejected.
   */
  async read(name: string, expectedShape?: readonly number[]): Promise<{ data: Float32Array; dtype: SafetensorsDtype }> {
    const info = this.tensors.get(name);
    if (!info) throw new ModelLoadError(this.path, `tensor ${name} is missing`);
    if (expectedShape && !sameShape(info.shape, expectedShape)) {
      throw new ModelLoadError(
        this.path,
        `tensor ${name} has shape [${info.shape.join(', ')}], expected [${expectedShape.join(', ')}]`,
      );
    }
    const dtype = info.dtype;
    if (!isSupportedDtype(dtype)) {
      throw new ModelLoadError(this.path, `tensor ${name} has dtype ${dtype}; supported dtypes are F32, F16 and BF16`);
    }
    const count = info.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    const width = DTYPE_BYTES[dtype];
    if (dtype === 'F32') {
      // Same layout as the host: read straight into the result.
      await this.readRange(name, new Uint8Array(out.buffer), info.begin);
    } else {
      const perChunk = Math.floor(READ_CHUNK_BYTES / width);
      const scratch = new Uint8Array(Math.min(count, perChunk) * width);
      for (let done = 0; done < count; done += perChunk) {
        const n = Math.min(perChunk, count - done);
        const bytes = scratch.subarray(0, n * width);
        await this.readRange(name, bytes, info.begin + done * width);
        if (dtype === 'F16') decodeF16(bytes, out, done, n);
        else decodeBf16(bytes, out, done, n);
      }
    }
    return { data: out, dtype };
  }

  /** Reads tensor `name` as raw bytes; its dtype must be `dtype` (e.g. U8 for packed MXFP4 blocks and scales). */
  async readBytes(name: string, dtype: 'U8', expectedShape: readonly number[]): Promise<Uint8Array> {
    const info = this.tensors.get(name);
    if (!info) throw new ModelLoadError(this.path, `tensor ${name} is missing`);
    if (info.dtype !== dtype) throw new ModelLoadError(this.path, `tensor ${name} has dtype ${info.dtype}, expected ${dtype}`);
    if (!sameShape(info.shape, expectedShape)) {
      throw new ModelLoadError(this.path, `tensor ${name} has shape [${info.shape.join(', ')}], expected [${expectedShape.join(', ')}]`);
    }
    const out = new Uint8Array(info.end - info.begin);
    await this.readRange(name, out, info.begin);
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async readRange(name: string, target: Uint8Array, position: number): Promise<void> {
    for (let done = 0; done < target.length; ) {
      const length = Math.min(READ_CHUNK_BYTES, target.length - done);
      const { bytesRead } = await this.handle.read(target, done, length, position + done);
      if (bytesRead === 0) throw new ModelLoadError(this.path, `tensor ${name}: file ended early (truncated?)`);
      done += bytesRead;
    }
  }
}

async function readHeader(
  path: string,
  handle: FileHandle,
): Promise<{ tensors: Map<string, SafetensorsTensorInfo>; metadata: Record<string, string> }> {
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) throw new ModelLoadError(path, `file is ${fileSize} bytes, too short for a safetensors header`);
  const prefix = Buffer.alloc(8);
  await handle.read(prefix, 0, 8, 0);
  const headerLength = prefix.readBigUInt64LE(0);
  if (headerLength > BigInt(fileSize - 8)) {
    throw new ModelLoadError(path, `header length ${headerLength} exceeds the ${fileSize - 8} bytes after the length field (truncated file?)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw new ModelLoadError(path, `header length ${headerLength} is implausibly large`);
  const n = Number(headerLength);
  const headerBytes = Buffer.alloc(n);
  await handle.read(headerBytes, 0, n, 8);
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerBytes.toString('utf8'));
  } catch (error) {
    throw new ModelLoadError(path, `header is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelLoadError(path, 'header is not a JSON object');
  }
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  let metadata: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      const meta = z.record(z.string()).safeParse(value);
      if (meta.success) metadata = meta.data;
      else problems.push('__metadata__ is not a map of strings');
      continue;
    }
    const entry = tensorEntrySchema.safeParse(value);
    if (!entry.success) {
      problems.push(`tensor ${name}: malformed header entry (${entry.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
      continue;
    }
    const { dtype, shape, data_offsets: [begin, end] } = entry.data;
    if (end < begin) {
      problems.push(`tensor ${name}: data_offsets [${begin}, ${end}] end before they begin`);
      continue;
    }
    if (end > dataSize) {
      problems.push(`tensor ${name}: data_offsets [${begin}, ${end}] run past the end of the file (${dataSize} data bytes; truncated?)`);
      continue;
    }
    const width = KNOWN_DTYPE_BYTES[dtype];
    const count = shape.reduce((a, b) => a * b, 1);
    if (width !== undefined && (end - begin) !== count * width) {
      problems.push(`tensor ${name}: ${end - begin} bytes do not hold shape [${shape.join(', ')}] of ${dtype} (${count * width} bytes)`);
      continue;
    }
    tensors.set(name, { name, dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  if (problems.length > 0) throw new ModelLoadError(path, problems.join('; '));
  return { tensors, metadata };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
