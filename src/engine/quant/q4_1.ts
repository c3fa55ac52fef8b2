/**
 * Q4_1: blocks of 32 values, `block_q4_1 { half d; half m; uint8 qs[16]; }` (20 bytes).
 * Value j (j < 16) is `(qs[j] & 0xF) * d + m`, value j + 16 is `(qs[j] >> 4) * d + m`.
 * Activations pair as Q8_1 (`ggml_vec_dot_q4_1_q8_1`, which uses the Q8_1 block sum `s`).
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes, unpackNibbles } from "./block32.js";
import { packNibbles, quantizeBlockWithMin } from "./block32-quantize.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { Q8_1_ACTIVATION, Q8_1_BLOCK_BYTES, Q8_1_LAYOUT } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, readHalf } from "./scalar.js";

const BLOCK_SIZE = 32;
const BLOCK_BYTES = 20;
const M_OFFSET = 2;
const QS_OFFSET = 4;
const LAYOUT: BlockLayout = { type: GgmlType.Q4_1, blockSize: BLOCK_SIZE, blockBytes: BLOCK_BYTES };
const MAX_CODE = 15;
const quantizedCodes = new Int32Array(BLOCK_SIZE);

export const Q4_1_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_1,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
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
    const nBlocks = checkCodecRow(LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * BLOCK_BYTES;
      quantizeBlockWithMin(src, srcOffset + ib * BLOCK_SIZE, MAX_CODE, MAX_CODE, dst, block, block + M_OFFSET, quantizedCodes);
      packNibbles(quantizedCodes, dst, block + QS_OFFSET);
    }
  },

  // ggml_vec_dot_q4_1_q8_1 (AVX2): 8 FMA lanes with d_w·d_a, plus Σ m_w·s_a in a scalar f32
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(LAYOUT, Q8_1_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    let summs = 0;
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_1_BLOCK_BYTES;
      // m_w·s_a is exact in f32 (two halves), so fused or not this is one rounding
      summs = Math.fround(summs + readHalf(w, wb + M_OFFSET) * readHalf(act, ab + 2));
      unpackNibbles(w, wb + QS_OFFSET, 0, CODES);
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
