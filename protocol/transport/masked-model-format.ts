/**
 * The masked model X − U as one byte stream (GET /v1/masked-model), the gateway's one large
 * download per pairing. Little-endian throughout:
 *
 *   offset  size  field
 *   0       8     magic "PLMASK01"
 *   8       4     header length H (bytes of JSON)
 *   12      4     reserved, 0
 *   16      H     header JSON: { modelHash, pairingId, profile, tensors: WeightSpec[],
 *                 ringTensors?: RingWeightSpec[] }, then zero padding to a multiple of 8
 *   …             each tensor's outDim × inDim values, 8 bytes each, in header order (row-major
 *                 as the engine stores X: linear [out, in], embedding [vocab, dim]): float64
 *                 under the float profiles (`tensors`); under ring64 (`tensors` empty,
 *                 `ringTensors` set) uint64 elements of Z_2^64, X − U mod 2^64 with X the int16
 *                 fixed-point weights, so every element is uniform over the ring.
 *
 * Biases are not part of it: P0 adds them itself (MulW), so they never leave the engine.
 * The whole stream's sha256 is published in the model card and in the response headers.
 */
import { z } from 'zod';
import { planarRing } from '../../compute/ring-gemm.js';
import type { RoleWeight } from '../subprotocols/mul-w.js';
import type { RingRoleWeight } from '../subprotocols/ring/ring-mul-w.js';
import { ringWeightSpecSchema, weightSpecSchema } from './model-card.js';
import type { WeightSpec } from '../model/private-weights.js';

export const MASKED_MODEL_MAGIC = 'PLMASK01';
const PREFIX_BYTES = 16;

const headerSchema = z.object({
  modelHash: z.string(),
  pairingId: z.string(),
  profile: z.string(),
  tensors: z.array(weightSpecSchema),
  ringTensors: z.array(ringWeightSpecSchema).min(1).optional(),
}).refine((h) => (h.ringTensors === undefined) !== (h.tensors.length === 0), 'exactly one of tensors and ringTensors');

export type MaskedModelHeader = z.infer<typeof headerSchema>;

export interface MaskedModelLayout {
  /** The prefix: magic, lengths, padded header. */
  head: Buffer;
  /** Byte offset of each tensor's data in the stream, in header order. */
  offsets: number[];
  totalBytes: number;
}

export class MaskedModelFormatError extends Error {
  override readonly name = 'MaskedModelFormatError';
}

/** The tensors in stream order (float or ring specs; only their names and shapes matter here). */
export function tensorsOf(header: MaskedModelHeader): ReadonlyArray<{ name: string; outDim: number; inDim: number }> {
  return header.ringTensors ?? header.tensors;
}

export function maskedModelLayout(header: MaskedModelHeader): MaskedModelLayout {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = (json.length + 7) & ~7;
  const head = Buffer.alloc(PREFIX_BYTES + padded);
  head.write(MASKED_MODEL_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, PREFIX_BYTES);
  const offsets: number[] = [];
  let offset = head.length;
  for (const t of tensorsOf(header)) {
    offsets.push(offset);
    offset += t.outDim * t.inDim * 8;
  }
  return { head, offsets, totalBytes: offset };
}

/**
 * Parses a complete masked model held in memory. Tensor data are views into `bytes` when
 * aligned (the file is read into a fresh, 8-aligned buffer), copies otherwise.
 */
export function parseMaskedModel(bytes: Uint8Array): { header: MaskedModelHeader; weights: Map<string, RoleWeight>; ringWeights?: Map<string, RingRoleWeight> } {
  if (bytes.length < PREFIX_BYTES) throw new MaskedModelFormatError(`masked model: ${bytes.length} bytes is shorter than its prefix`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.toString('latin1', 0, 8) !== MASKED_MODEL_MAGIC) throw new MaskedModelFormatError('masked model: bad magic');
  const jsonBytes = buf.readUInt32LE(8);
  if (PREFIX_BYTES + jsonBytes > buf.length) throw new MaskedModelFormatError('masked model: header runs past the end');
  let header: MaskedModelHeader;
  try {
    header = headerSchema.parse(JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + jsonBytes)));
  } catch (error) {
    throw new MaskedModelFormatError(`masked model: bad header: ${error instanceof Error ? error.message : String(error)}`);
  }
  const layout = maskedModelLayout(header);
  if (layout.totalBytes !== buf.length) throw new MaskedModelFormatError(`masked model: ${buf.length} bytes, the header describes ${layout.totalBytes}`);
  const weights = new Map<string, RoleWeight>();
  if (header.ringTensors) {
    const ringWeights = new Map<string, RingRoleWeight>();
    header.ringTensors.forEach((spec, i) => {
      const start = buf.byteOffset + layout.offsets[i]!;
      const count = spec.outDim * spec.inDim;
      const data = start % 8 === 0 ? new BigUint64Array(buf.buffer, start, count) : new BigUint64Array(buf.buffer.slice(start, start + count * 8));
      if (ringWeights.has(spec.name)) throw new MaskedModelFormatError(`masked model: tensor ${spec.name} appears twice`);
      ringWeights.set(spec.name, { spec: { ...spec, blocks: spec.blocks.map((b) => ({ ...b })) }, data: planarRing(data, spec.outDim, spec.inDim) });
    });
    return { header, weights, ringWeights };
  }
  header.tensors.forEach((spec: WeightSpec, i) => {
    const start = buf.byteOffset + layout.offsets[i]!;
    const count = spec.outDim * spec.inDim;
    const data = start % 8 === 0 ? new Float64Array(buf.buffer, start, count) : new Float64Array(buf.buffer.slice(start, start + count * 8));
    if (weights.has(spec.name)) throw new MaskedModelFormatError(`masked model: tensor ${spec.name} appears twice`);
    weights.set(spec.name, { spec: { ...spec }, data });
  });
  return { header, weights };
}
