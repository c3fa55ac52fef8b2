/**
 * Q4_0: blocks of 32 values, `block_q4_0 { half d; uint8 qs[16]; }` (18 bytes).
 * Value j (j < 16) is `(qs[j] & 0xF) - 8`, value j + 16 is `(qs[j] >> 4) - 8`, both times d.
 * Activations pair as Q8_0 (`ggml_vec_dot_q4_0_q8_0`).
 *
 * Route (llama.cpp on x86 with AVX2): a weight with a multiple of 8 rows lives in the CPU_REPACK
 * buffer (repack.cpp, `q4_0_8x8`); every product, one token (gemv) or batches (gemm over groups of
 * 4 tokens, gemv for the rest), is then the whole block's integer sum accumulated with one FMA per
 * block: acc = fma(Σ q·a, f32(d_w·d_a), acc) (`dotRepacked`). Other weights use `vecDot`
 * (ggml_vec_dot_q4_0_q8_0, and llamafile's tinyBLAS_Q0_AVX for batches, which computes the same).
 */
import { GgmlType } from "../ggml/types.js";
import { blockSum, CODES, fmaBlockLanes, resetLanes, sumLanes, unpackNibbles } from "./block32.js";
import { packNibbles, quantizeBlockSymmetric } from "./block32-quantize.js";
import type { WeightKernel } from "./kernel.js";
import { Q8_0_ACTIVATION, Q8_0_BLOCK_BYTES, Q8_0_LAYOUT } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { fmaF32 } from "./simd.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, readHalf } from "./scalar.js";

const BLOCK_SIZE = 32;
const BLOCK_BYTES = 18;
const QS_OFFSET = 2;
const LAYOUT: BlockLayout = { type: GgmlType.Q4_0, blockSize: BLOCK_SIZE, blockBytes: BLOCK_BYTES };
/** code − 8 is the value in units of d */
const CODE_BIAS = 8;
const quantizedCodes = new Int32Array(BLOCK_SIZE);

export const Q4_0_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_0,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block);
      const out = dstOffset + ib * BLOCK_SIZE;
      for (let j = 0; j < 16; j++) {
        const q = src[block + QS_OFFSET + j];
        dst[out + j] = ((q & 0x0f) - CODE_BIAS) * d;
        dst[out + j + 16] = ((q >> 4) - CODE_BIAS) * d;
      }
    }
  },

  // quantize_row_q4_0_ref: d = max / -8 where max is the value of largest magnitude (sign kept).
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * BLOCK_BYTES;
      quantizeBlockSymmetric(src, srcOffset + ib * BLOCK_SIZE, CODE_BIAS, dst, block, quantizedCodes);
      packNibbles(quantizedCodes, dst, block + QS_OFFSET);
    }
  },

  // ggml_vec_dot_q4_0_q8_0 (AVX2) and llamafile tinyBLAS_Q0_AVX: 8 FMA lanes, hsum_float_8
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
      unpackNibbles(w, wb + QS_OFFSET, CODE_BIAS, CODES);
      fmaBlockLanes(Math.fround(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 2);
    }
    return sumLanes();
  },

  // CPU_REPACK (q4_0_8x8) when the row count is a multiple of 8, see the file comment
  route(_nCols, nRows) {
    return nRows % 8 === 0 ? REPACKED_ROUTE : VEC_DOT_ROUTE;
  },
};

/** ggml_gemv/gemm_q4_0_8x8_q8_0 (AVX2/AVX-512) for one output: one FMA per block. */
function dotRepacked(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const ai8 = int8ViewOf(act);
  let acc = 0;
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
    unpackNibbles(w, wb + QS_OFFSET, CODE_BIAS, CODES);
    const sum = blockSum(CODES, ai8, act.byteOffset + ab + 2);
    acc = fmaF32(sum, Math.fround(readHalf(w, wb) * readHalf(act, ab)), acc);
  }
  return acc;
}

const VEC_DOT_ROUTE = uniformRoute(dotPath(Q8_0_ACTIVATION, Q4_0_KERNEL.vecDot));
const REPACKED_ROUTE = uniformRoute(dotPath(Q8_0_ACTIVATION, dotRepacked));
