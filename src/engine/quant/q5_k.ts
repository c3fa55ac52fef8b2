/**
 * Q5_K: super-blocks of 256 values in 8 sub-blocks of 32,
 * `block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }` (176 bytes).
 * Scales and mins as Q4_K (6-bit, `scaleMinK4`); value = d*sc_j*q - dmin*m_j with 5-bit q. The 32
 * bytes qs[32k..32k+31] hold the low 4 bits of sub-block 2k (low nibbles) and 2k+1 (high
 * nibbles); bit s of qh[l] is the fifth bit of value l of sub-block s. Activations pair as Q8_K.
 *
 * Route (llama.cpp on x86): every product is ggml_vec_dot_q5_K_q8_K (llama.cpp repacks Q5_K only
 * on ARM, and llamafile has no K-quant kernel).
 */
import { GgmlType } from "../ggml/types.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import type { Qkx2Search } from "./kquant-search.js";
import { quantizeScaleMinSuperBlock } from "./kquant-scalemin.js";
import { scaleMinK4 } from "./q4_k-dots.js";
import { Q8_K_ACTIVATION, Q8_K_BLOCK_BYTES, Q8_K_BSUMS_OFFSET, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, readF32, readHalf, readI16, zeroedBlocksQuantizer, dot4 } from "./scalar.js";
import { fmaF32, hsum8 } from "./simd.js";

const fr = Math.fround;
const BLOCK_BYTES = 176;
const LAYOUT: BlockLayout = { type: GgmlType.Q5_K, blockSize: QK_K, blockBytes: BLOCK_BYTES };
const DMIN_OFFSET = 2;
const SCALES_OFFSET = 4;
const QH_OFFSET = 16;
const QS_OFFSET = 48;

/** quantize_row_q5_K_ref's `make_qkx2_quants(32, 31, x, weights, L, &min, Laux, -0.5f, 0.1f, 15, false)` */
const SEARCH: Qkx2Search = { nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15, useMad: false };

const scaleMin = new Int32Array(2);
const scales = new Int32Array(8);
const mins = new Int32Array(8);
const levels = new Uint8Array(QK_K);
const codes = new Int32Array(QK_K);
const intLanes = new Int32Array(8);
const accLanes = new Float64Array(8);

/** The 256 five-bit codes (0..31) of the block at `bytes[block..]`, in value order, into `out`. */
function unpackCodes(bytes: Uint8Array, block: number, out: Int32Array): void {
  for (let k = 0; k < 4; k++) {
    const q = block + QS_OFFSET + 32 * k;
    for (let l = 0; l < 32; l++) {
      const h = bytes[block + QH_OFFSET + l];
      out[64 * k + l] = (bytes[q + l] & 0x0f) | (((h >> (2 * k)) & 1) << 4);
      out[64 * k + 32 + l] = (bytes[q + l] >> 4) | (((h >> (2 * k + 1)) & 1) << 4);
    }
  }
}

function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  quantizeScaleMinSuperBlock(SEARCH, src, x, dst, block, levels);
  for (let k = 0; k < 4; k++) {
    for (let l = 0; l < 32; l++) {
      const l1 = levels[64 * k + l];
      const l2 = levels[64 * k + 32 + l];
      dst[block + QS_OFFSET + 32 * k + l] = (l1 & 0x0f) | ((l2 & 0x0f) << 4);
      dst[block + QH_OFFSET + l] |= ((l1 >> 4) << (2 * k)) | ((l2 >> 4) << (2 * k + 1));
    }
  }
}

/**
 * ggml_vec_dot_q5_K_q8_K (AVX2): int32 lane l of each 32-value sub-block s takes sc_s · Σ of its
 * values 4l..4l+3 (codes 0..31); per super-block one FMA per lane with d = f32(d_a·d_w), and the
 * mins' integer total Σ m_s·S_s (S: the activations' 32-value sums) in one scalar FMA with
 * dmin = −f32(d_a·dmin_w); the result is hsum_float_8 of the lanes plus that scalar.
 */
function dotQ5KVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  accLanes.fill(0);
  let summs = 0;
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const dAct = readF32(act, ab);
    const d = fr(dAct * readHalf(w, wb));
    const dmin = -fr(dAct * readHalf(w, wb + DMIN_OFFSET));
    let minSum = 0;
    for (let j = 0; j < 8; j++) {
      scaleMinK4(j, w, wb + SCALES_OFFSET, scaleMin);
      scales[j] = scaleMin[0];
      mins[j] = scaleMin[1];
      const bsums = ab + Q8_K_BSUMS_OFFSET + 4 * j;
      minSum += mins[j] * (readI16(act, bsums) + readI16(act, bsums + 2));
    }
    summs = fmaF32(dmin, minSum, summs);
    unpackCodes(w, wb, codes);
    intLanes.fill(0);
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    for (let s = 0; s < 8; s++) {
      for (let l = 0; l < 8; l++) {
        const i = 32 * s + 4 * l;
        const sum = dot4(codes, a, qa, i);
        intLanes[l] += scales[s] * sum;
      }
    }
    for (let l = 0; l < 8; l++) accLanes[l] = fmaF32(d, fr(intLanes[l]), accLanes[l]);
  }
  return fr(hsum8(accLanes, 0) + summs);
}

export const Q5_K_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_K,

  // dequantize_row_q5_K: d1·q − m1 per value, the product rounded first
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block);
      const min = readHalf(src, block + DMIN_OFFSET);
      const out = dstOffset + ib * QK_K;
      unpackCodes(src, block, codes);
      for (let j = 0; j < 8; j++) {
        scaleMinK4(j, src, block + SCALES_OFFSET, scaleMin);
        const dj = fr(d * scaleMin[0]);
        const mj = fr(min * scaleMin[1]);
        for (let l = 0; l < 32; l++) dst[out + 32 * j + l] = fr(dj * codes[32 * j + l]) - mj;
      }
    }
  },

  // quantize_row_q5_K_ref
  quantizeRow: zeroedBlocksQuantizer(LAYOUT, quantizeSuperBlock),

  vecDot: dotQ5KVec,

  route() {
    return ROUTE;
  },
};

const ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_K_ACTIVATION, dotQ5KVec));
