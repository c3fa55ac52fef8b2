/**
 * Q5_0 and Q5_1: blocks of 32 values with a fifth bit per value in `qh` (uint32, little-endian):
 * `block_q5_0 { half d; uint8 qh[4]; uint8 qs[16]; }` (22 bytes), value `(q5 - 16) * d`;
 * `block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16]; }` (24 bytes), value `q5 * d + m`.
 * Bit j of qh is the high bit of value j, bit j + 16 that of value j + 16.
 * Activations pair as Q8_0 (Q5_0) and Q8_1 (Q5_1).
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import { packNibbles, quantizeBlockSymmetric, quantizeBlockWithMin } from "./block32-quantize.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { Q8_0_ACTIVATION, Q8_0_BLOCK_BYTES, Q8_0_LAYOUT, Q8_1_ACTIVATION, Q8_1_BLOCK_BYTES, Q8_1_LAYOUT } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { type BlockLayout, checkCodecRow, checkDotRows, int8ViewOf, readHalf, readU32, writeU32 } from "./scalar.js";

const BLOCK_SIZE = 32;
/** Q5_0: code − 16 is the value in units of d */
const Q5_0_CODE_BIAS = 16;
/** Q5_1: the largest code (value = code·d + m) */
const Q5_1_MAX_CODE = 31;

/** Unpacks the 32 five-bit codes of a block into `codes` (0..31). */
function unpackCodes(bytes: Uint8Array, qhOffset: number, qsOffset: number, codes: Int32Array): void {
  const qh = readU32(bytes, qhOffset);
  for (let j = 0; j < 16; j++) {
    const q = bytes[qsOffset + j];
    codes[j] = (q & 0x0f) | (((qh >>> j) << 4) & 0x10);
    codes[j + 16] = (q >> 4) | ((qh >>> (j + 12)) & 0x10);
  }
}

/** Packs 32 five-bit codes (0..31) into qs/qh. */
function packCodes(codes: Int32Array, bytes: Uint8Array, qhOffset: number, qsOffset: number): void {
  packNibbles(codes, bytes, qsOffset);
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    qh |= ((codes[j] & 0x10) >>> 4) << j;
    qh |= ((codes[j + 16] & 0x10) >>> 4) << (j + 16);
  }
  writeU32(bytes, qhOffset, qh >>> 0);
}

const codes = new Int32Array(BLOCK_SIZE);

const Q5_0_BLOCK_BYTES = 22;
const Q5_0_LAYOUT: BlockLayout = { type: GgmlType.Q5_0, blockSize: BLOCK_SIZE, blockBytes: Q5_0_BLOCK_BYTES };

export const Q5_0_KERNEL: WeightKernel = {
  ...Q5_0_LAYOUT,
  vecDotType: GgmlType.Q8_0,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(Q5_0_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * Q5_0_BLOCK_BYTES;
      const d = readHalf(src, block);
      unpackCodes(src, block + 2, block + 6, codes);
      const out = dstOffset + ib * BLOCK_SIZE;
      for (let j = 0; j < BLOCK_SIZE; j++) dst[out + j] = (codes[j] - Q5_0_CODE_BIAS) * d;
    }
  },

  // quantize_row_q5_0_ref: d = max / -16 where max is the value of largest magnitude.
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkCodecRow(Q5_0_LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * Q5_0_BLOCK_BYTES;
      quantizeBlockSymmetric(src, srcOffset + ib * BLOCK_SIZE, Q5_0_CODE_BIAS, dst, block, codes);
      packCodes(codes, dst, block + 2, block + 6);
    }
  },

  // ggml_vec_dot_q5_0_q8_0 (AVX2) and llamafile tinyBLAS_Q0_AVX: 8 FMA lanes, hsum_float_8
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(Q5_0_LAYOUT, Q8_0_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * Q5_0_BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
      unpackCodes(w, wb + 2, wb + 6, CODES);
      for (let j = 0; j < BLOCK_SIZE; j++) CODES[j] -= Q5_0_CODE_BIAS;
      fmaBlockLanes(Math.fround(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 2);
    }
    return sumLanes();
  },

  // vec_dot for one token, llamafile's tinyBLAS_Q0_AVX (same arithmetic) for batches
  route() {
    return Q5_0_ROUTE;
  },
};

const Q5_1_BLOCK_BYTES = 24;
const Q5_1_LAYOUT: BlockLayout = { type: GgmlType.Q5_1, blockSize: BLOCK_SIZE, blockBytes: Q5_1_BLOCK_BYTES };

export const Q5_1_KERNEL: WeightKernel = {
  ...Q5_1_LAYOUT,
  vecDotType: GgmlType.Q8_1,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkCodecRow(Q5_1_LAYOUT, nValues, src, srcByteOffset, dst, dstOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * Q5_1_BLOCK_BYTES;
      const d = readHalf(src, block);
      const m = readHalf(src, block + 2);
      unpackCodes(src, block + 4, block + 8, codes);
      const out = dstOffset + ib * BLOCK_SIZE;
      // q*d is exact, so one rounding of the double sum equals C's f32 `x*d + m`
      for (let j = 0; j < BLOCK_SIZE; j++) dst[out + j] = codes[j] * d + m;
    }
  },

  // quantize_row_q5_1_ref: d = (max - min) / 31, m = min.
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkCodecRow(Q5_1_LAYOUT, nValues, dst, dstByteOffset, src, srcOffset);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = dstByteOffset + ib * Q5_1_BLOCK_BYTES;
      // (uint8_t)(x0 + 0.5f): truncation, no clamp (as ggml); packCodes keeps the low 5 bits
      quantizeBlockWithMin(src, srcOffset + ib * BLOCK_SIZE, Q5_1_MAX_CODE, Infinity, dst, block, block + 2, codes);
      packCodes(codes, dst, block + 4, block + 8);
    }
  },

  // ggml_vec_dot_q5_1_q8_1 (AVX2): 8 FMA lanes with d_w·d_a, plus Σ m_w·s_a in a scalar f32
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkDotRows(Q5_1_LAYOUT, Q8_1_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    let summs = 0;
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * Q5_1_BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_1_BLOCK_BYTES;
      // m_w·s_a is exact in f32 (two halves), so fused or not this is one rounding
      summs = Math.fround(summs + readHalf(w, wb + 2) * readHalf(act, ab + 2));
      unpackCodes(w, wb + 4, wb + 8, CODES);
      fmaBlockLanes(Math.fround(readHalf(w, wb) * readHalf(act, ab)), CODES, ai8, act.byteOffset + ab + 4);
    }
    return Math.fround(sumLanes() + summs);
  },

  // always ggml's vec_dot: llamafile has no Q5_1 kernel and llama.cpp does not repack Q5_1 on x86
  route() {
    return Q5_1_ROUTE;
  },
};

const Q5_0_ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_0_ACTIVATION, Q5_0_KERNEL.vecDot));
const Q5_1_ROUTE: MatmulRoute = uniformRoute(dotPath(Q8_1_ACTIVATION, Q5_1_KERNEL.vecDot));
