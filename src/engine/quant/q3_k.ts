/**
 * Q3_K: super-blocks of 256 values in 16 sub-blocks of 16,
 * `block_q3_K { uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d; }` (110 bytes).
 * value = d * (sc_s − 32) * q with q in [−4, 3]: value i = 128h + 32g + l (h < 2, g < 4, l < 32)
 * has its low 2 bits at bits 2g of qs[32h + l] and its high bit (set: +0, clear: −4) at bit 4h + g
 * of hmask[l]. The 6-bit scale of sub-block s: low 4 bits in scales[s % 8] (low nibble for s < 8),
 * high 2 bits at bits 2·(s/4) of scales[8 + s % 4]. Activations pair as Q8_K.
 *
 * Route (llama.cpp on x86): every product is ggml_vec_dot_q3_K_q8_K (no repack, no sgemm).
 */
import { GgmlType } from "../ggml/types.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { makeQ3Quants } from "./kquant-search.js";
import { Q8_K_ACTIVATION, Q8_K_BLOCK_BYTES, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { dotPath, uniformRoute } from "./route.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, nearestInt, readF32, readHalf, writeHalf, zeroedBlocksQuantizer, dot4 } from "./scalar.js";
import { fmaF32, hsum8 } from "./simd.js";

const fr = Math.fround;
const BLOCK_BYTES = 110;
const LAYOUT: BlockLayout = { type: GgmlType.Q3_K, blockSize: QK_K, blockBytes: BLOCK_BYTES };
const QS_OFFSET = 32;
const SCALES_OFFSET = 96;
const D_OFFSET = 108;

const scales = new Int32Array(16);
const subScales = new Float32Array(16);
const levels = new Uint8Array(QK_K);
const codes = new Int32Array(QK_K);
const intLanes = new Int32Array(8);
const accLanes = new Float64Array(8);

/** The 16 signed sub-block scales (−32..31) of the block at `bytes[block..]` into `out`. */
function unpackScales(bytes: Uint8Array, block: number, out: Int32Array): void {
  const sc = block + SCALES_OFFSET;
  for (let s = 0; s < 16; s++) {
    const low = s < 8 ? bytes[sc + s] & 0x0f : bytes[sc + s - 8] >> 4;
    const high = (bytes[sc + 8 + (s % 4)] >> (2 * (s >> 2))) & 3;
    out[s] = (low | (high << 4)) - 32;
  }
}

/** The 256 codes (−4..3) of the block, in value order, into `out`. */
function unpackCodes(bytes: Uint8Array, block: number, out: Int32Array): void {
  for (let h = 0; h < 2; h++) {
    for (let g = 0; g < 4; g++) {
      for (let l = 0; l < 32; l++) {
        const low = (bytes[block + QS_OFFSET + 32 * h + l] >> (2 * g)) & 3;
        const high = (bytes[block + l] >> (4 * h + g)) & 1;
        out[128 * h + 32 * g + l] = low - (high ? 0 : 4);
      }
    }
  }
}

/** Writes the codes (0..7 = q + 4) in `levels` into the block's qs and hmask. */
function packCodes(dst: Uint8Array, block: number): void {
  for (let i = 0; i < QK_K; i++) {
    const h = i >> 7;
    const g = (i >> 5) & 3;
    const l = i & 31;
    const q = levels[i];
    if (q > 3) dst[block + l] |= 1 << (4 * h + g);
    dst[block + QS_OFFSET + 32 * h + l] |= (q & 3) << (2 * g);
  }
}

/** quantize_row_q3_K_ref for one super-block; the block must be zero on entry. */
function quantizeSuperBlock(src: Float32Array, x: number, dst: Uint8Array, block: number): void {
  let maxScale = 0;
  let amax = 0;
  for (let j = 0; j < 16; j++) {
    subScales[j] = makeQ3Quants(16, 4, src, x + 16 * j, levels, 16 * j);
    if (Math.abs(subScales[j]) > amax) {
      amax = Math.abs(subScales[j]);
      maxScale = subScales[j];
    }
  }
  const sc = block + SCALES_OFFSET;
  if (maxScale) {
    const iscale = fr(-32 / maxScale);
    for (let j = 0; j < 16; j++) {
      const l = Math.max(-32, Math.min(31, nearestInt(fr(iscale * subScales[j])))) + 32;
      if (j < 8) dst[sc + j] = l & 0x0f;
      else dst[sc + j - 8] |= (l & 0x0f) << 4;
      dst[sc + 8 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
    }
    writeHalf(dst, block + D_OFFSET, fr(1 / iscale));
  }
  const dAll = readHalf(dst, block + D_OFFSET);
  unpackScales(dst, block, scales);
  for (let j = 0; j < 16; j++) {
    const d = fr(dAll * scales[j]);
    if (!d) continue;
    for (let i = 0; i < 16; i++) {
      levels[16 * j + i] = Math.max(-4, Math.min(3, nearestInt(fr(src[x + 16 * j + i] / d)))) + 4;
    }
  }
  packCodes(dst, block);
}

/**
 * ggml_vec_dot_q3_K_q8_K (AVX2): int32 lane l of each 32-value vector v takes sc · Σ of its values
 * 4l..4l+3 (sc of sub-block 2v for l < 4, 2v + 1 otherwise; codes −4..3); per super-block one
 * FMA per lane with d = f32(d_a·d_w); the result is hsum_float_8 of the lanes.
 */
function dotQ3KVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  accLanes.fill(0);
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const d = fr(readF32(act, ab) * readHalf(w, wb + D_OFFSET));
    unpackScales(w, wb, scales);
    unpackCodes(w, wb, codes);
    intLanes.fill(0);
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    for (let v = 0; v < 8; v++) {
      for (let l = 0; l < 8; l++) {
        const i = 32 * v + 4 * l;
        const sum = dot4(codes, a, qa, i);
        intLanes[l] += scales[2 * v + (l >> 2)] * sum;
      }
    }
    for (let l = 0; l < 8; l++) accLanes[l] = fmaF32(d, fr(intLanes[l]), accLanes[l]);
  }
  return hsum8(accLanes, 0);
}

export const Q3_K_KERNEL: WeightKernel = {
  ...LAYOUT,
  vecDotType: GgmlType.Q8_K,

  // dequantize_row_q3_K: dl = d·(sc − 32), then dl·q rounded once
  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * BLOCK_BYTES;
      const d = readHalf(src, block + D_OFFSET);
      const out = dstOffset + ib * QK_K;
      unpackScales(src, block, scales);
      unpackCodes(src, block, codes);
      for (let s = 0; s < 16; s++) {
        const dl = fr(d * scales[s]);
        for (let l = 0; l < 16; l++) dst[out + 16 * s + l] = dl * codes[16 * s + l];
      }
    }
  },

  // quantize_row_q3_K_ref
  quantizeRow: zeroedBlocksQuantizer(LAYOUT, quantizeSuperBlock),

  vecDot: dotQ3KVec,

  route() {
    return ROUTE;
  },
};

const ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_K_ACTIVATION, dotQ3KVec));
