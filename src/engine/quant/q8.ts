/**
 * 8-bit blocks of 32 values.
 * - Q8_0 `block_q8_0 { half d; int8 qs[32]; }` (34 bytes): a weight type (dotted against Q8_0
 *   activations) and the activation partner of Q4_0, Q5_0 and Q8_0.
 * - Q8_1 `block_q8_1 { half d; half s; int8 qs[32]; }` (36 bytes), s = d * sum(qs): the activation
 *   partner of Q4_1 and Q5_1.
 * Weight quantization (`Q8_0_KERNEL.quantizeRow`, `Q8_1_REFERENCE`) matches ggml's
 * `quantize_row_q8_0_ref` / `quantize_row_q8_1_ref`: d = amax / 127, id = d ? 1/d : 0,
 * qs = roundf(x * id) (half away from zero) — what llama-quantize writes into files.
 * Activation quantization (`Q8_0_ACTIVATION`, `Q8_1_ACTIVATION`) matches what llama.cpp runs
 * on x86-64 (the AVX2/AVX-512 `quantize_row_q8_0/1`): id = amax ? 127/amax : 0 and
 * qs = round-half-to-even(x * id). The two differ on ties and in the last bit of id, and on
 * real models that flips enough codes to move logits by 0.1–0.4, so the difference matters.
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import type { ActivationQuantizer, MatmulRoute, WeightKernel } from "./kernel.js";
import { dotPath, uniformRoute } from "./route.js";
import {
  assertValuesInBounds,
  checkEncodedRow,
  readHalf,
  int8ViewOf,
  readI8,
  nearestInt,
  roundHalfAwayFromZero,
  writeHalf,
} from "./scalar.js";

const BLOCK_SIZE = 32;
export const Q8_0_BLOCK_BYTES = 34;
export const Q8_1_BLOCK_BYTES = 36;

/**
 * Shared by Q8_0 and Q8_1: quantizes one block of 32 values at `src[x..]` into `dst[qsOffset..]`,
 * returns d (f32, before rounding to half) and writes the sum of the codes into `sumOut[0]`.
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

/** `reference`: ggml's `_ref` quantizers (files); `x86-simd`: llama.cpp's AVX2/AVX-512 activation path. */
type Q8Rounding = "reference" | "x86-simd";

function dequantizeQ8(
  type: GgmlType,
  blockBytes: number,
  qsOffset: number,
  src: Uint8Array,
  srcByteOffset: number,
  dst: Float32Array,
  dstOffset: number,
  nValues: number,
): void {
  const nBlocks = checkEncodedRow(type, BLOCK_SIZE, blockBytes, nValues, src, srcByteOffset);
  assertValuesInBounds(dst, dstOffset, nValues);
  for (let ib = 0; ib < nBlocks; ib++) {
    const block = srcByteOffset + ib * blockBytes;
    const d = readHalf(src, block);
    const out = dstOffset + ib * BLOCK_SIZE;
    for (let j = 0; j < BLOCK_SIZE; j++) dst[out + j] = readI8(src, block + qsOffset + j) * d;
  }
}

export const Q8_0_KERNEL: WeightKernel = {
  type: GgmlType.Q8_0,
  blockSize: BLOCK_SIZE,
  blockBytes: Q8_0_BLOCK_BYTES,
  vecDotType: GgmlType.Q8_0,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    dequantizeQ8(GgmlType.Q8_0, Q8_0_BLOCK_BYTES, 2, src, srcByteOffset, dst, dstOffset, nValues);
  },

  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8_0(src, srcOffset, dst, dstByteOffset, nValues, "reference");
  },

  // ggml_vec_dot_q8_0_q8_0 (AVX2) and llamafile tinyBLAS_Q0_AVX: 8 FMA lanes, hsum_float_8
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkEncodedRow(GgmlType.Q8_0, BLOCK_SIZE, Q8_0_BLOCK_BYTES, nValues, w, wByteOffset);
    checkEncodedRow(GgmlType.Q8_0, BLOCK_SIZE, Q8_0_BLOCK_BYTES, nValues, act, actByteOffset);
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

function quantizeRowQ8_0(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number, rounding: Q8Rounding): void {
  const nBlocks = checkEncodedRow(GgmlType.Q8_0, BLOCK_SIZE, Q8_0_BLOCK_BYTES, nValues, dst, dstByteOffset);
  assertValuesInBounds(src, srcOffset, nValues);
  for (let ib = 0; ib < nBlocks; ib++) {
    const block = dstByteOffset + ib * Q8_0_BLOCK_BYTES;
    const d = quantizeBlockQ8(src, srcOffset + ib * BLOCK_SIZE, dst, block + 2, blockSum, rounding);
    writeHalf(dst, block, d);
  }
}

/** Q8_0 as the activation type of Q4_0, Q5_0 and Q8_0 weights (x86 SIMD rounding). */
export const Q8_0_ACTIVATION: ActivationQuantizer = {
  type: GgmlType.Q8_0,
  blockSize: BLOCK_SIZE,
  blockBytes: Q8_0_BLOCK_BYTES,
  dequantizeRow: Q8_0_KERNEL.dequantizeRow,
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    quantizeRowQ8_0(src, srcOffset, dst, dstByteOffset, nValues, "x86-simd");
  },
};

const Q8_0_ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_0_ACTIVATION, Q8_0_KERNEL.vecDot));

/** Q8_1 block codec with the given rounding. */
function makeQ8_1(rounding: Q8Rounding): ActivationQuantizer {
  return {
    type: GgmlType.Q8_1,
    blockSize: BLOCK_SIZE,
    blockBytes: Q8_1_BLOCK_BYTES,

    dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
      dequantizeQ8(GgmlType.Q8_1, Q8_1_BLOCK_BYTES, 4, src, srcByteOffset, dst, dstOffset, nValues);
    },

    quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
      const nBlocks = checkEncodedRow(GgmlType.Q8_1, BLOCK_SIZE, Q8_1_BLOCK_BYTES, nValues, dst, dstByteOffset);
      assertValuesInBounds(src, srcOffset, nValues);
      for (let ib = 0; ib < nBlocks; ib++) {
        const block = dstByteOffset + ib * Q8_1_BLOCK_BYTES;
        const d = quantizeBlockQ8(src, srcOffset + ib * BLOCK_SIZE, dst, block + 4, blockSum, rounding);
        writeHalf(dst, block, d);
        // s = sum * d with the unrounded f32 d, then stored as half
        writeHalf(dst, block + 2, Math.fround(blockSum[0] * d));
      }
    },
  };
}

/** Q8_1: the activation type of Q4_1 and Q5_1 weights (x86 SIMD rounding). */
export const Q8_1_ACTIVATION: ActivationQuantizer = makeQ8_1("x86-simd");
/** Q8_1 with ggml's reference quantizer (`quantize_row_q8_1_ref`). */
export const Q8_1_REFERENCE: ActivationQuantizer = makeQ8_1("reference");
