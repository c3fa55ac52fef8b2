/**
 * Q8_K: the activation type of the K-quants, blocks of 256 values,
 * `block_q8_K { float d; int8 qs[256]; int16 bsums[16]; }` (292 bytes), bsums[j] = sum of qs[16j..16j+15].
 * Quantizer matches `quantize_row_q8_K_ref`: it scales by the *signed* value of largest magnitude,
 * iscale = -127/max, qs = min(127, nearest_int(iscale*x)) (so the extreme maps to -127 and the other
 * side may reach -128), d = 1/iscale stored as f32.
 */
import { GgmlType } from "../ggml/types.js";
import type { ActivationQuantizer } from "./kernel.js";
import { type BlockLayout, checkCodecRow, nearestInt, readF32, readI8, signedAbsMax, writeF32, writeI16 } from "./scalar.js";

export const QK_K = 256;
export const Q8_K_BLOCK_BYTES = 292;
export const Q8_K_QS_OFFSET = 4;
export const Q8_K_BSUMS_OFFSET = 260;
export const Q8_K_LAYOUT: BlockLayout = { type: GgmlType.Q8_K, blockSize: QK_K, blockBytes: Q8_K_BLOCK_BYTES };

function dequantizeRowQ8K(src: Uint8Array, srcByteOffset: number, dst: Float32Array, dstOffset: number, nValues: number): void {
  const nBlocks = checkCodecRow(Q8_K_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
  for (let ib = 0; ib < nBlocks; ib++) {
    const block = srcByteOffset + ib * Q8_K_BLOCK_BYTES;
    const d = readF32(src, block);
    const out = dstOffset + ib * QK_K;
    for (let j = 0; j < QK_K; j++) dst[out + j] = d * readI8(src, block + Q8_K_QS_OFFSET + j);
  }
}

/**
 * Which extreme a block is scaled by: `reference` (quantize_row_q8_K_ref): the first value of
 * largest magnitude; `positive-first` (x86 ggml_quantize_mat_q8_K_4x8): +amax if any value equals
 * +amax, else -amax. They differ only when both +amax and -amax occur, -amax first.
 */
type ExtremeRule = "reference" | "positive-first";

function quantizeRowQ8K(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number, rule: ExtremeRule): void {
  const nBlocks = checkCodecRow(Q8_K_LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
  for (let ib = 0; ib < nBlocks; ib++) {
    const x = srcOffset + ib * QK_K;
    const block = dstByteOffset + ib * Q8_K_BLOCK_BYTES;
    const qs = block + Q8_K_QS_OFFSET;
    let max = signedAbsMax(src, x, QK_K);
    const amax = Math.abs(max);
    if (!amax) {
      // ggml leaves bsums untouched here; we zero the whole block so the output is deterministic
      dst.fill(0, block, block + Q8_K_BLOCK_BYTES);
      continue;
    }
    if (rule === "positive-first" && max < 0) {
      for (let j = 0; j < QK_K; j++) if (src[x + j] === amax) max = amax;
    }
    const iscale = Math.fround(-127 / max);
    for (let j = 0; j < QK_K; j++) {
      const v = Math.min(127, nearestInt(Math.fround(iscale * src[x + j])));
      dst[qs + j] = v & 0xff;
    }
    for (let g = 0; g < QK_K / 16; g++) {
      let sum = 0;
      for (let i = 0; i < 16; i++) sum += readI8(dst, qs + 16 * g + i);
      writeI16(dst, block + Q8_K_BSUMS_OFFSET + 2 * g, sum);
    }
    writeF32(dst, block, Math.fround(1 / iscale));
  }
}

/** Q8_K activations as llama.cpp's `from_float` makes them (x86: quantize_row_q8_K = the reference). */
export const Q8_K_ACTIVATION: ActivationQuantizer = {
  ...Q8_K_LAYOUT,
  dequantizeRow: dequantizeRowQ8K,
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8K(src, srcOffset, dst, dstByteOffset, nValues, "reference");
  },
};

/**
 * Q8_K activations of the repacked Q4_K gemm (x86 `ggml_quantize_mat_q8_K_4x8`), stored here as
 * plain block_q8_K rows: same codes and d as Q8_K_ACTIVATION except for the extreme's sign rule.
 */
export const Q8_K_ACTIVATION_4X8: ActivationQuantizer = {
  ...Q8_K_ACTIVATION,
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8K(src, srcOffset, dst, dstByteOffset, nValues, "positive-first");
  },
};
