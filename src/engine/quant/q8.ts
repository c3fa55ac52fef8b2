/**
 * 8-bit blocks of 32 values.
 * - Q8_0 `block_q8_0 { half d; int8 qs[32]; }` (34 bytes): a weight type (dotted against Q8_0
 *   activations) and the activation partner of Q4_0, Q5_0 and Q8_0.
 * - Q8_1 `block_q8_1 { half d; half s; int8 qs[32]; }` (36 bytes), s = d * sum(qs): the activation
 *   partner of Q4_1 and Q5_1.
 * Weight quantization (`Q8_0_KERNEL.quantizeRow`) matches ggml's `quantize_row_q8_0_ref`:
 * d = amax / 127, id = d ? 1/d : 0, qs = roundf(x * id) (half away from zero) — what
 * llama-quantize writes into files.
 * Activation quantization (`Q8_0_ACTIVATION`, `Q8_1_ACTIVATION`) matches what llama.cpp runs
 * on x86-64 (the AVX2/AVX-512 `quantize_row_q8_0/1`): id = amax ? 127/amax : 0 and
 * qs = round-half-to-even(x * id). The two differ on ties and in the last bit of id, and on
 * real models that flips enough codes to move logits by 0.1–0.4, so the difference matters.
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import type { ActivationQuantizer, MatmulRoute, WeightKernel } from "./kernel.js";
import { dotPath, uniformRoute } from "./route.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, nearestInt, readHalf, readI8, roundHalfAwayFromZero, writeHalf } from "./scalar.js";

const BLOCK_SIZE = 32;
export const Q8_0_BLOCK_BYTES = 34;
export const Q8_1_BLOCK_BYTES = 36;

export const Q8_0_LAYOUT: BlockLayout = { type: GgmlType.Q8_0, blockSize: BLOCK_SIZE, blockBytes: Q8_0_BLOCK_BYTES };
export const Q8_1_LAYOUT: BlockLayout = { type: GgmlType.Q8_1, blockSize: BLOCK_SIZE, blockBytes: Q8_1_BLOCK_BYTES };

/** Where a block's 32 codes start: they end it, after d (Q8_0) or d and s (Q8_1). */
function qsOffset(layout: BlockLayout): number {
  return layout.blockBytes - BLOCK_SIZE;
}

/** `reference`: ggml's `_ref` quantizers (files); `x86-simd`: llama.cpp's AVX2/AVX-512 activation path. */
type Q8Rounding = "reference" | "x86-simd";

/**
 * Quantizes one block of 32 values at `src[x..]` into `dst[qsOffset..]`, returns d (f32, before
 * rounding to half) and writes the sum of the codes into `sumOut[0]`.
 */
function quantizeBlockQ8(src: Float32Array, x: number, dst: Uint8Array, qsOffset: number, sumOut: Int32Array, rounding: Q8Rounding): number {
  let amax = 0;
  for (let j = 0; j < BLOCK_SIZE; j++) amax = Math.max(amax, Math.abs(src[x + j]));
  const d = Math.fround(amax / 127);
  const simd = rounding === "x86-simd";
  const id = simd ? (amax ? Math.fround(127 / amax) : 0) : d ? Math.fround(1 / d) : 0;
  let sum = 0;
  for (let j = 0; j < BLOCK_SIZE; j++) {
    const scaled = Math.fround(src[x + j] * id);
    const q = simd ? nearestInt(scaled) : roundHalfAwayFromZero(scaled);
    dst[qsOffset + j] = q & 0xff;
    sum += q;
  }
  sumOut[0] = sum;
  return d;
}

const blockSum = new Int32Array(1);

function quantizeRowQ8(
  layout: BlockLayout,
  rounding: Q8Rounding,
  src: Float32Array,
  srcOffset: number,
  dst: Uint8Array,
  dstByteOffset: number,
  nValues: number,
): void {
  const nBlocks = checkCodecRow(layout, nValues, dst, dstByteOffset, src, srcOffset);
  const qs = qsOffset(layout);
  for (let ib = 0; ib < nBlocks; ib++) {
    const block = dstByteOffset + ib * layout.blockBytes;
    const d = quantizeBlockQ8(src, srcOffset + ib * BLOCK_SIZE, dst, block + qs, blockSum, rounding);
    writeHalf(dst, block, d);
    // Q8_1: s = sum * d with the unrounded f32 d, then stored as half
    if (layout.type === GgmlType.Q8_1) writeHalf(dst, block + 2, Math.fround(blockSum[0] * d));
  }
}

function dequantizeRowQ8(layout: BlockLayout, src: Uint8Array, srcByteOffset: number, dst: Float32Array, dstOffset: number, nValues: number): void {
  const nBlocks = checkCodecRow(layout, nValues, src, srcByteOffset, dst, dstOffset);
  const qs = qsOffset(layout);
  for (let ib = 0; ib < nBlocks; ib++) {
    const block = srcByteOffset + ib * layout.blockBytes;
    const d = readHalf(src, block);
    const out = dstOffset + ib * BLOCK_SIZE;
    for (let j = 0; j < BLOCK_SIZE; j++) dst[out + j] = readI8(src, block + qs + j) * d;
  }
}

export const Q8_0_KERNEL: WeightKernel = {
  ...Q8_0_LAYOUT,
  vecDotType: GgmlType.Q8_0,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    dequantizeRowQ8(Q8_0_LAYOUT, src, srcByteOffset, dst, dstOffset, nValues);
  },

  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8(Q8_0_LAYOUT, "reference", src, srcOffset, dst, dstByteOffset, nValues);
  },

  // ggml_vec_dot_q8_0_q8_0 (AVX2) and llamafile tinyBLAS_Q0_AVX: 8 FMA lanes, hsum_float_8
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(Q8_0_LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const wi8 = int8ViewOf(w);
    const ai8 = int8ViewOf(act);
    resetLanes();
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * Q8_0_BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
      const wq = w.byteOffset + wb + 2;
      for (let j = 0; j < 32; j++) CODES[j] = wi8[wq + j];
      fmaBlockLanes(Math.fround(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 2);
    }
    return sumLanes();
  },

  // vec_dot for one token, llamafile's tinyBLAS_Q0_AVX (same arithmetic) for batches
  route() {
    return Q8_0_ROUTE;
  },
};

/** Q8_0 as the activation type of Q4_0, Q5_0 and Q8_0 weights (x86 SIMD rounding). */
export const Q8_0_ACTIVATION: ActivationQuantizer = {
  ...Q8_0_LAYOUT,
  dequantizeRow: Q8_0_KERNEL.dequantizeRow,
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8(Q8_0_LAYOUT, "x86-simd", src, srcOffset, dst, dstByteOffset, nValues);
  },
};

const Q8_0_ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_0_ACTIVATION, Q8_0_KERNEL.vecDot));

/** Q8_1: the activation type of Q4_1 and Q5_1 weights (x86 SIMD rounding). */
export const Q8_1_ACTIVATION: ActivationQuantizer = {
  ...Q8_1_LAYOUT,
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    dequantizeRowQ8(Q8_1_LAYOUT, src, srcByteOffset, dst, dstOffset, nValues);
  },
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8(Q8_1_LAYOUT, "x86-simd", src, srcOffset, dst, dstByteOffset, nValues);
  },
};
