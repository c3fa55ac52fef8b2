/**
 * Q6_K: super-blocks of 256 values in 16 sub-blocks of 16,
 * `block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }` (210 bytes).
 * value = d * scales[sub] * (q6 - 32). Within each half (128 values, 64 ql bytes, 32 qh bytes),
 * value l + 32*s (l < 32, s < 4) has its low 4 bits in ql[l + 32*(s&1)] (low nibble for s < 2,
 * high nibble otherwise) and its high 2 bits in qh[l] at bit 2*s. Activations pair as Q8_K.
 * llama.cpp on x86 computes every Q6_K product with ggml_vec_dot_q6_K_q8_K (no sgemm, no repack).
 */
import { GgmlType } from "../ggml/types.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { makeQxQuants } from "./kquant-search.js";
import { Q8_K_ACTIVATION, Q8_K_BLOCK_BYTES, Q8_K_BSUMS_OFFSET, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { fmaF32, hsum8 } from "./simd.js";
import {
  type BlockLayout,
  checkCodecRow,
  checkDotRows,
  int8ViewOf,
  nearestInt,
  readF32,
  readHalf,
  readI16,
  readI8,
  writeHalf,
} from "./scalar.js";

const fr = Math.fround;
const BLOCK_BYTES = 210;
const LAYOUT: BlockLayout = { type: GgmlType.Q6_K, blockSize: QK_K, blockBytes: BLOCK_BYTES };
const QH_OFFSET = 128;
const SCALES_OFFSET = 192;
const D_OFFSET = 208;
const GROUP_MAX_EPS = fr(1e-15);

// quantizer scratch
const levels = new Uint8Array(QK_K);
const subScales = new Float32Array(16);
// dot scratch
const codes = new Int32Array(QK_K);
const lanes = new Int32Array(8);
const laneSums = new Float64Array(8);

/** Unpacks the 256 six-bit codes of a block (minus 32) into `out`. */
function unpackCodes(bytes: Uint8Array, block: number, out: Int32Array | Float32Array): void {
  for (let half = 0; half < 2; half++) {
    const ql = block + 64 * half;
    const qh = block + QH_OFFSET + 32 * half;
    const o = 128 * half;
    for (let l = 0; l < 32; l++) {
      const h = bytes[qh + l];
      out[o + l] = ((bytes[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
      out[o + l + 32] = ((bytes[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
      out[o + l + 64] = ((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
      out[o + l + 96] = ((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
    }
  }
}

function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  let maxScale = 0;
  let maxAbsScale = 0;
  for (let ib = 0; ib < 16; ib++) {
    const scale = makeQxQuants(16, 32, src, x + 16 * ib, levels, 16 * ib);
    subScales[ib] = scale;
    if (Math.abs(scale) > maxAbsScale) {
      maxAbsScale = Math.abs(scale);
      maxScale = scale;
    }
  }
  dst.fill(0, block, block + BLOCK_BYTES);
  if (maxAbsScale < GROUP_MAX_EPS) return; // all-zero block, d = 0
  const iscale = fr(-128 / maxScale);
  writeHalf(dst, block + D_OFFSET, fr(1 / iscale));
  for (let ib = 0; ib < 16; ib++) {
    dst[block + SCALES_OFFSET + ib] = Math.min(127, nearestInt(fr(iscale * subScales[ib]))) & 0xff;
  }
  const dAll = readHalf(dst, block + D_OFFSET);
  for (let j = 0; j < 16; j++) {
    const d = fr(dAll * readI8(dst, block + SCALES_OFFSET + j));
    if (!d) continue;
    for (let i = 0; i < 16; i++) {
      const l = nearestInt(fr(src[x + 16 * j + i] / d));
      levels[16 * j + i] = Math.max(-32, Math.min(31, l)) + 32;
    }
  }
  packCodes(levels, dst, block);
}

/** The inverse of `unpackCodes`: the 256 six-bit codes (0..63) into the block's ql and qh. */
function packCodes(codes: Uint8Array, bytes: Uint8Array, block: number): void {
  for (let half = 0; half < 2; half++) {
    const ql = block + 64 * half;
    const qh = block + QH_OFFSET + 32 * half;
    const o = 128 * half;
    for (let l = 0; l < 32; l++) {
      const q1 = codes[o + l];
      const q2 = codes[o + l + 32];
      const q3 = codes[o + l + 64];
      const q4 = codes[o + l + 96];
      bytes[ql + l] = (q1 & 0x0f) | ((q3 & 0x0f) << 4);
      bytes[ql + l + 32] = (q2 & 0x0f) | ((q4 & 0x0f) << 4);
      bytes[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
}

export const Q6_K_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_K,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const out = dstOffset + ib * QK_K;
      unpackCodes(src, block, codes);
      const d = readHalf(src, block + D_OFFSET);
      for (let i = 0; i < QK_K; i++) {
        // (d * sc) is exact in f32; one rounding of the product, as in C
        dst[out + i] = d * readI8(src, block + SCALES_OFFSET + (i >> 4)) * codes[i];
      }
    }
  },

  // quantize_row_q6_K_ref
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      quantizeSuperBlock(src, srcOffset + ib * QK_K, dst, dstByteOffset + ib * BLOCK_BYTES);
    }
  },

  // ggml_vec_dot_q6_K_q8_K (AVX2): unsigned 6-bit codes in 8 int32 lanes of 4 consecutive values per
  // 32-value vector, the -32 offset subtracted per lane from bsums, one FMA per lane and super-block
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    const wi8 = int8ViewOf(w);
    laneSums.fill(0);
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
      unpackCodes(w, wb, codes);
      const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
      const sc = w.byteOffset + wb + SCALES_OFFSET;
      lanes.fill(0);
      // 8 vectors of 32 values; int32 lane l of a vector: scale · Σ of its values 4l..4l+3 (codes 0..63)
      for (let v = 0; v < 8; v++) {
        const scaleLow = wi8[sc + 2 * v];
        const scaleHigh = wi8[sc + 2 * v + 1];
        for (let l = 0; l < 8; l++) {
          const i = 32 * v + 4 * l;
          const sum =
            (codes[i] + 32) * ai8[qa + i] +
            (codes[i + 1] + 32) * ai8[qa + i + 1] +
            (codes[i + 2] + 32) * ai8[qa + i + 2] +
            (codes[i + 3] + 32) * ai8[qa + i + 3];
          lanes[l] += (l < 4 ? scaleLow : scaleHigh) * sum;
        }
      }
      // minus 32 · Σ_sub scale·bsum, paired per lane as _mm256_madd_epi16(bsums, scales) does
      const d = fr(readF32(act, ab) * readHalf(w, wb + D_OFFSET));
      for (let l = 0; l < 8; l++) {
        const bsums = ab + Q8_K_BSUMS_OFFSET + 4 * l;
        const offset = readI16(act, bsums) * wi8[sc + 2 * l] + readI16(act, bsums + 2) * wi8[sc + 2 * l + 1];
        laneSums[l] = fmaF32(d, fr(lanes[l] - 32 * offset), laneSums[l]);
      }
    }
    return hsum8(laneSums, 0);
  },

  // always ggml's vec_dot: llamafile has no K-quant kernels and llama.cpp repacks Q6_K only on ARM
  route() {
    return ROUTE;
  },
};

const ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_K_ACTIVATION, Q6_K_KERNEL.vecDot));
