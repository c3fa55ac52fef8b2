/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32,
 * `block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }` (144 bytes).
 * Sub-block j has a 6-bit scale sc_j and 6-bit min m_j packed in `scales` (see `scaleMinK4`);
 * value = d*sc_j*q - dmin*m_j with 4-bit q. The 32 bytes qs[32k..32k+31] hold sub-block 2k in the
 * low nibbles and sub-block 2k+1 in the high nibbles. Activations pair as Q8_K.
 *
 * Route (llama.cpp on x86 with AVX2): a weight with a multiple of 8 rows lives in the CPU_REPACK
 * buffer (`q4_K_8x8`): batches of ≥ 4 tokens go through the repacked gemm in groups of 4 (their
 * activations from ggml_quantize_mat_q8_K_4x8), the remaining tokens through the repacked gemv.
 * Other weights use ggml_vec_dot_q4_K_q8_K for every token (llamafile has no K-quant kernel).
 * The three dots are in q4_k-dots.ts.
 */
import { GgmlType } from "../ggml/types.js";
import type { WeightKernel } from "./kernel.js";
import type { Qkx2Search } from "./kquant-search.js";
import { quantizeScaleMinSuperBlock } from "./kquant-scalemin.js";
import {
  DMIN_OFFSET,
  dotQ4KRepackedGemm,
  dotQ4KRepackedGemv,
  dotQ4KVec,
  Q4_K_BLOCK_BYTES as BLOCK_BYTES,
  Q4_K_LAYOUT,
  QS_OFFSET,
  SCALES_OFFSET,
  scaleMinK4,
} from "./q4_k-dots.js";
import { Q8_K_ACTIVATION, Q8_K_ACTIVATION_4X8, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { checkCodecRow, readHalf, zeroedBlocksQuantizer } from "./scalar.js";

const fr = Math.fround;

const scaleMin = new Int32Array(2);
/** quantize_row_q4_K_ref's `make_qkx2_quants(32, 15, x, weights, L, &min, Laux, -1.f, 0.1f, 20, false)` */
const SEARCH: Qkx2Search = { nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20, useMad: false };
// quantizer scratch
const levels = new Uint8Array(QK_K);

function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  quantizeScaleMinSuperBlock(SEARCH, src, x, dst, block, levels);
  const qs = block + QS_OFFSET;
  for (let k = 0; k < 4; k++) {
    for (let l = 0; l < 32; l++) dst[qs + 32 * k + l] = levels[64 * k + l] | (levels[64 * k + l + 32] << 4);
  }
}

export const Q4_K_KERNEL: WeightKernel = {
  ...Q4_K_LAYOUT,
  vecDotType: GgmlType.Q8_K,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(Q4_K_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block);
      const min = readHalf(src, block + DMIN_OFFSET);
      const out = dstOffset + ib * QK_K;
      for (let k = 0; k < 4; k++) {
        scaleMinK4(2 * k, src, block + SCALES_OFFSET, scaleMin);
        const d1 = fr(d * scaleMin[0]);
        const m1 = fr(min * scaleMin[1]);
        scaleMinK4(2 * k + 1, src, block + SCALES_OFFSET, scaleMin);
        const d2 = fr(d * scaleMin[0]);
        const m2 = fr(min * scaleMin[1]);
        const q = block + QS_OFFSET + 32 * k;
        const o = out + 64 * k;
        for (let l = 0; l < 32; l++) dst[o + l] = fr(d1 * (src[q + l] & 0x0f)) - m1;
        for (let l = 0; l < 32; l++) dst[o + 32 + l] = fr(d2 * (src[q + l] >> 4)) - m2;
      }
    }
  },

  // quantize_row_q4_K_ref
  quantizeRow: zeroedBlocksQuantizer(Q4_K_LAYOUT, quantizeSuperBlock),

  vecDot: dotQ4KVec,

  route(_nCols, nRows, nTokens) {
    if (nRows % 8 !== 0) return VEC_DOT_ROUTE;
    return { nBatched: nTokens > 3 ? nTokens - (nTokens % 4) : 0, batched: REPACKED_GEMM, single: REPACKED_GEMV };
  },
};

const VEC_DOT_ROUTE = uniformRoute(dotPath(Q8_K_ACTIVATION, dotQ4KVec));
const REPACKED_GEMV = dotPath(Q8_K_ACTIVATION, dotQ4KRepackedGemv);
const REPACKED_GEMM = dotPath(Q8_K_ACTIVATION_4X8, dotQ4KRepackedGemm);
