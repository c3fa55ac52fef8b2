/**
 * Q2_K: super-blocks of 256 values in 16 sub-blocks of 16,
 * `block_q2_K { uint8 scales[16]; uint8 qs[64]; half d; half dmin; }` (84 bytes).
 * scales[s] holds sub-block s's 4-bit scale (low nibble) and 4-bit min (high nibble);
 * value = d·sc_s·q − dmin·m_s with q in 0..3 at bits 2g of qs[32h + l] for value 128h + 32g + l.
 * Activations pair as Q8_K.
 *
 * Route (llama.cpp's AVX-512 build): as Q4_K, a weight with a multiple of 8 rows lives in the
 * CPU_REPACK buffer (`q2_K_8x8`): batches of ≥ 4 tokens through the repacked gemm in groups of 4
 * (activations from ggml_quantize_mat_q8_K_4x8), the other tokens through the repacked gemv;
 * other weights use ggml_vec_dot_q2_K_q8_K. The three dots are in q2_k-dots.ts.
 */
import { GgmlType } from "../ggml/types.js";
import type { WeightKernel } from "./kernel.js";
import { makeQkx2Quants, type Qkx2Search } from "./kquant-search.js";
import { D_OFFSET, DMIN_OFFSET, dotQ2KRepackedGemm, dotQ2KRepackedGemv, dotQ2KVec, Q2_K_BLOCK_BYTES as BLOCK_BYTES, Q2_K_LAYOUT, QS_OFFSET } from "./q2_k-dots.js";
import { Q8_K_ACTIVATION, Q8_K_ACTIVATION_4X8, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { checkCodecRow, nearestInt, readHalf, writeHalf, zeroedBlocksQuantizer } from "./scalar.js";

const fr = Math.fround;
/** quantize_row_q2_K_ref's `make_qkx2_quants(16, 3, x, weights, L, &min, Laux, -0.5f, 0.1f, 15, true)` */
const SEARCH: Qkx2Search = { nmax: 3, rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: true };
const Q4SCALE = 15;

const levels = new Uint8Array(QK_K);
const levelsAux = new Uint8Array(16);
const weights = new Float32Array(16);
const subScales = new Float32Array(16);
const subMins = new Float32Array(16);
const minOut = new Float32Array(1);

/** quantize_row_q2_K_ref for one super-block; the block must be zero on entry. */
function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 16; j++) {
    const xs = x + 16 * j;
    for (let l = 0; l < 16; l++) weights[l] = Math.abs(src[xs + l]);
    subScales[j] = makeQkx2Quants(SEARCH, src.subarray(xs, xs + 16), weights, levels.subarray(16 * j, 16 * j + 16), levelsAux, minOut);
    subMins[j] = minOut[0];
    if (subScales[j] > maxScale) maxScale = subScales[j];
    if (subMins[j] > maxMin) maxMin = subMins[j];
  }
  if (maxScale > 0) {
    const iscale = fr(Q4SCALE / maxScale);
    for (let j = 0; j < 16; j++) dst[block + j] = nearestInt(fr(iscale * subScales[j])) & 0xff;
    writeHalf(dst, block + D_OFFSET, fr(maxScale / Q4SCALE));
  }
  if (maxMin > 0) {
    const iscale = fr(Q4SCALE / maxMin);
    for (let j = 0; j < 16; j++) dst[block + j] |= (nearestInt(fr(iscale * subMins[j])) << 4) & 0xff;
    writeHalf(dst, block + DMIN_OFFSET, fr(maxMin / Q4SCALE));
  }
  const dAll = readHalf(dst, block + D_OFFSET);
  const dminAll = readHalf(dst, block + DMIN_OFFSET);
  for (let j = 0; j < 16; j++) {
    const d = fr(dAll * (dst[block + j] & 0x0f));
    if (!d) continue;
    const dm = fr(dminAll * (dst[block + j] >> 4));
    for (let i = 0; i < 16; i++) {
      levels[16 * j + i] = Math.max(0, Math.min(3, nearestInt(fr(fr(src[x + 16 * j + i] + dm) / d))));
    }
  }
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      const i = 128 * h + l;
      dst[block + QS_OFFSET + 32 * h + l] = levels[i] | (levels[i + 32] << 2) | (levels[i + 64] << 4) | (levels[i + 96] << 6);
    }
  }
}

export const Q2_K_KERNEL: WeightKernel = {
  ...Q2_K_LAYOUT,
  vecDotType: GgmlType.Q8_K,

  // dequantize_row_q2_K: dl·q − ml, the product rounded first
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(Q2_K_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block + D_OFFSET);
      const min = readHalf(src, block + DMIN_OFFSET);
      const out = dstOffset + ib * QK_K;
      for (let i = 0; i < QK_K; i++) {
        const sc = src[block + (i >> 4)];
        const q = (src[block + QS_OFFSET + 32 * (i >> 7) + (i & 31)] >> (2 * ((i >> 5) & 3))) & 3;
        dst[out + i] = fr(fr(d * (sc & 0x0f)) * q) - fr(min * (sc >> 4));
      }
    }
  },

  // quantize_row_q2_K_ref
  quantizeRow: zeroedBlocksQuantizer(Q2_K_LAYOUT, quantizeSuperBlock),

  vecDot: dotQ2KVec,

  route(_nCols, nRows, nTokens) {
    if (nRows % 8 !== 0) return VEC_DOT_ROUTE;
    return { nBatched: nTokens > 3 ? nTokens - (nTokens % 4) : 0, batched: REPACKED_GEMM, single: REPACKED_GEMV };
  },
};

const VEC_DOT_ROUTE = uniformRoute(dotPath(Q8_K_ACTIVATION, dotQ2KVec));
const REPACKED_GEMV = dotPath(Q8_K_ACTIVATION, dotQ2KRepackedGemv);
const REPACKED_GEMM = dotPath(Q8_K_ACTIVATION_4X8, dotQ2KRepackedGemm);
