/**
 * MXFP4 (OCP microscaling FP4), the format gpt-oss ships its expert weights in: each block of 32
 * values is 16 bytes of 4-bit E2M1 codes (low nibble first) plus one E8M0 scale byte s, and value
 * = fp4(code) · 2^(s − 127). Dequantized to float32 at load: the model description holds floats.
 */
const FP4_E2M1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6] as const;

/**
 * @param blocks [rows, groups, 16] bytes, @param scales [rows, groups] bytes
 * @returns [rows, groups·32] float32 values, row-major
 */
export function dequantizeMxfp4(blocks: Uint8Array, scales: Uint8Array, rows: number, groups: number): Float32Array {
  if (blocks.length !== rows * groups * 16) throw new RangeError(`mxfp4: ${blocks.length} block bytes for ${rows}x${groups} groups (expected ${rows * groups * 16})`);
  if (scales.length !== rows * groups) throw new RangeError(`mxfp4: ${scales.length} scales for ${rows}x${groups} groups`);
  const out = new Float32Array(rows * groups * 32);
  for (let g = 0; g < rows * groups; g++) {
    const scale = 2 ** (scales[g]! - 127);
    for (let b = 0; b < 16; b++) {
      const byte = blocks[g * 16 + b]!;
      out[g * 32 + 2 * b] = FP4_E2M1[byte & 0x0f]! * scale;
      out[g * 32 + 2 * b + 1] = FP4_E2M1[byte >> 4]! * scale;
    }
  }
  return out;
}
