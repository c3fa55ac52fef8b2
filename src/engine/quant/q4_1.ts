/**
 * Q4_1: blocks of 32 values, `block_q4_1 { half d; half m; uint8 qs[16]; }` (20 bytes).
 * Value j (j < 16) is `(qs[j] & 0xF) * d + m`, value j + 16 is `(qs[j] >> 4) * d + m`.
 * Activations pair as Q8_1 (`ggml_vec_dot_q4_1_q8_1`, which uses the Q8_1 block sum `s`).
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { Q8_1_ACTIVATION, Q8_1_BLOCK_BYTES } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { assertValuesInBounds, checkEncodedRow, int8ViewOf, readHalf, writeHalf } from "./scalar.js";

const BLOCK_SIZE = 32;
const BLOCK_BYTES = 20;
const M_OFFSET = 2;
const QS_OFFSET = 4;
const FLT_MAX = 3.4028234663852886e38;

export const Q4_1_KERNEL: WeightKernel = {
  type: GgmlType.Q4_1,
  blockSize: BLOCK_SIZE,
  blockBytes: BLOCK_BYTES,
  vecDotType: GgmlType.Q8_1,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_1, BLOCK_SIZE, BLOCK_BYTES, nValues, src, srcByteOffset);
    assertValuesInBounds(dst, dstOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block);
      const m = readHalf(src, block + M_OFFSET);
      const out = dstOffset + ib * BLOCK_SIZE;
      for (let j = 0; j < 16; j++) {
        const q = src[block + QS_OFFSET + j];
        // q*d is exact, so one rounding of the double sum equals C's f32 `x*d + m`
        dst[out + j] = (q & 0x0f) * d + m;
        dst[out + j + 16] = (q >> 4) * d + m;
      }
    }
  },

  // quantize_row_q4_1_ref: d = (max - min) / 15, m = min.
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_1, BLOCK_SIZE, BLOCK_BYTES, nValues, dst, dstByteOffset);
    assertValuesInBounds(src, srcOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const x = srcOffset + ib * BLOCK_SIZE;
      const block = dstByteOffset + ib * BLOCK_BYTES;
      let min = FLT_MAX;
      let max = -FLT_MAX;
      for (let j = 0; j < BLOCK_SIZE; j++) {
        const v = src[x + j];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const d = Math.fround(Math.fround(max - min) / 15);
      const id = d ? Math.fround(1 / d) : 0;
      writeHalf(dst, block, d);
      writeHalf(dst, block + M_OFFSET, min);
      for (let j = 0; j < 16; j++) {
        const x0 = Math.fround(Math.fround(src[x + j] - min) * id);
        const x1 = Math.fround(Math.fround(src[x + j + 16] - min) * id);
        const xi0 = Math.min(15, Math.trunc(Math.fround(x0 + 0.5)));
        const xi1 = Math.min(15, Math.trunc(Math.fround(x1 + 0.5)));
        dst[block + QS_OFFSET + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      }
    }
  },

  // ggml_vec_dot_q4_1_q8_1 (AVX2): 8 FMA lanes with d_w·d_a, plus Σ m_w·s_a in a scalar f32
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_1, BLOCK_SIZE, BLOCK_BYTES, nValues, w, wByteOffset);
    checkEncodedRow(GgmlType.Q8_1, BLOCK_SIZE, Q8_1_BLOCK_BYTES, nValues, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    let summs = 0;
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_1_BLOCK_BYTES;
      // m_w·s_a is exact in f32 (two halves), so fused or not this is one rounding
      summs = Math.fround(summs + readHalf(w, wb + M_OFFSET) * readHalf(act, ab + 2));
      for (let j = 0; j < 16; j++) {
        const q = w[wb + QS_OFFSET + j];
        CODES[j] = q & 0x0f;
        CODES[j + 16] = q >> 4;
      }
      fmaBlockLanes(Math.fround(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 4);
    }
    return Math.fround(sumLanes() + summs);
  },

  // always ggml's vec_dot: llamafile has no Q4_1 kernel and llama.cpp does not repack Q4_1 on x86
  route() {
    return ROUTE;
  },
};

const ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_1_ACTIVATION, Q4_1_KERNEL.vecDot));
