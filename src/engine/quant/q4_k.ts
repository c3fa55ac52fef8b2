/**
 * Q4_K: super-blocks of 256 values in 8 sub-blocks of 32,
 * `block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }` (144 bytes).
 * Sub-block j has a 6-bit scale sc_j and 6-bit min m_j packed in `scales` (see `scaleMinK4`);
 * value = d*sc_j*q - dmin*m_j with 4-bit q. The 32 bytes qs[32k..32k+31] hold sub-block 2k in the
 * low nibbles and sub-block 2k+1 in the high nibbles. Activations pair as Q8_K.
 */
import { GgmlType } from "../ggml/types.js";
import type { WeightKernel } from "./kernel.js";
import { makeQkx2Quants } from "./kquant-search.js";
import { Q8_K_BLOCK_BYTES, Q8_K_BSUMS_OFFSET, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import {
  assertValuesInBounds,
  checkEncodedRow,
  int8ViewOf,
  nearestInt,
  readF32,
  readHalf,
  readI16,
  readI8,
  writeHalf,
} from "./scalar.js";

const fr = Math.fround;
const BLOCK_BYTES = 144;
const DMIN_OFFSET = 2;
const SCALES_OFFSET = 4;
const QS_OFFSET = 16;

/** `get_scale_min_k4`: 6-bit scale (`out[0]`) and min (`out[1]`) of sub-block j (0..7). */
export function scaleMinK4(j: number, bytes: Uint8Array, scalesOffset: number, out: Int32Array): void {
  const q = scalesOffset;
  if (j < 4) {
    out[0] = bytes[q + j] & 63;
    out[1] = bytes[q + j + 4] & 63;
  } else {
    out[0] = (bytes[q + j + 4] & 0x0f) | ((bytes[q + j - 4] >> 6) << 4);
    out[1] = (bytes[q + j + 4] >> 4) | ((bytes[q + j] >> 6) << 4);
  }
}

const scaleMin = new Int32Array(2);
// quantizer scratch
const levels = new Uint8Array(QK_K);
const levelsAux = new Uint8Array(32);
const weights = new Float32Array(32);
const subScales = new Float32Array(8);
const subMins = new Float32Array(8);
const minOut = new Float32Array(1);
// dot scratch
const codes = new Int32Array(QK_K);
const lanes = new Int32Array(8);
const laneSums = new Float32Array(8);

function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const xs = x + 32 * j;
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(src[xs + l] * src[xs + l]));
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fr(avX + Math.abs(src[xs + l]));
    subScales[j] = makeQkx2Quants(32, 15, src, xs, weights, levels, 32 * j, levelsAux, minOut, -1, 0.1, 20, false);
    subMins[j] = minOut[0];
    if (subScales[j] > maxScale) maxScale = subScales[j];
    if (subMins[j] > maxMin) maxMin = subMins[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const sc = block + SCALES_OFFSET;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invScale * subScales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * subMins[j])) & 0xff);
    if (j < 4) {
      dst[sc + j] = ls;
      dst[sc + j + 4] = lm;
    } else {
      dst[sc + j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4);
      dst[sc + j - 4] |= (ls >> 4) << 6;
      dst[sc + j] |= (lm >> 4) << 6;
    }
  }
  writeHalf(dst, block, fr(maxScale / 63));
  writeHalf(dst, block + DMIN_OFFSET, fr(maxMin / 63));
  const dAll = readHalf(dst, block);
  const dminAll = readHalf(dst, block + DMIN_OFFSET);
  for (let j = 0; j < 8; j++) {
    scaleMinK4(j, dst, sc, scaleMin);
    const d = fr(dAll * scaleMin[0]);
    if (!d) continue;
    const dm = fr(dminAll * scaleMin[1]);
    for (let i = 0; i < 32; i++) {
      const l = nearestInt(fr(fr(src[x + 32 * j + i] + dm) / d));
      levels[32 * j + i] = Math.max(0, Math.min(15, l));
    }
  }
  const qs = block + QS_OFFSET;
  for (let k = 0; k < 4; k++) {
    for (let l = 0; l < 32; l++) dst[qs + 32 * k + l] = levels[64 * k + l] | (levels[64 * k + l + 32] << 4);
  }
}

export const Q4_K_KERNEL: WeightKernel = {
  type: GgmlType.Q4_K,
  blockSize: QK_K,
  blockBytes: BLOCK_BYTES,
  vecDotType: GgmlType.Q8_K,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_K, QK_K, BLOCK_BYTES, nValues, src, srcByteOffset);
    assertValuesInBounds(dst, dstOffset, nValues);
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
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_K, QK_K, BLOCK_BYTES, nValues, dst, dstByteOffset);
    assertValuesInBounds(src, srcOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * BLOCK_BYTES;
      dst.fill(0, block, block + BLOCK_BYTES);
      quantizeSuperBlock(src, srcOffset + ib * QK_K, dst, block);
    }
  },

  // ggml_vec_dot_q4_K_q8_K_generic: integer sums in 8 lanes, f32 lane accumulators across blocks
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkEncodedRow(GgmlType.Q4_K, QK_K, BLOCK_BYTES, nValues, w, wByteOffset);
    checkEncodedRow(GgmlType.Q8_K, QK_K, Q8_K_BLOCK_BYTES, nValues, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    laneSums.fill(0);
    let sumf = 0;
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
      for (let k = 0; k < 4; k++) {
        const q = wb + QS_OFFSET + 32 * k;
        for (let l = 0; l < 32; l++) {
          codes[64 * k + l] = w[q + l] & 0x0f;
          codes[64 * k + 32 + l] = w[q + l] >> 4;
        }
      }
      let sumMins = 0;
      for (let g = 0; g < 16; g++) {
        scaleMinK4(g >> 1, w, wb + SCALES_OFFSET, scaleMin);
        sumMins += readI16(act, ab + Q8_K_BSUMS_OFFSET + 2 * g) * scaleMin[1];
      }
      lanes.fill(0);
      const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
      for (let j = 0; j < 8; j++) {
        scaleMinK4(j, w, wb + SCALES_OFFSET, scaleMin);
        const scale = scaleMin[0];
        for (let i = 32 * j; i < 32 * j + 32; i++) lanes[i & 7] += scale * codes[i] * ai8[qa + i];
      }
      const dAct = readF32(act, ab);
      const d = fr(readHalf(w, wb) * dAct);
      for (let l = 0; l < 8; l++) laneSums[l] = fr(laneSums[l] + fr(d * lanes[l]));
      const dmin = fr(readHalf(w, wb + DMIN_OFFSET) * dAct);
      sumf = fr(sumf - fr(dmin * sumMins));
    }
    for (let l = 0; l < 8; l++) sumf = fr(sumf + laneSums[l]);
    return sumf;
  },
};
