/**
 * Q5_0 and Q5_1: blocks of 32 values with a fifth bit per value in `qh` (uint32, little-endian):
 * `block_q5_0 { half d; uint8 qh[4]; uint8 qs[16]; }` (22 bytes), value `(q5 - 16) * d`;
 * `block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16]; }` (24 bytes), value `q5 * d + m`.
 * Bit j of qh is the high bit of value j, bit j + 16 that of value j + 16.
 * Activations pair as Q8_0 (Q5_0) and Q8_1 (Q5_1).
 */
import { GgmlType } from "../ggml/types.js";
import { CODES, fmaBlockLanes, resetLanes, sumLanes } from "./block32.js";
import type { MatmulRoute, WeightKernel } from "./kernel.js";
import { Q8_0_ACTIVATION, Q8_0_BLOCK_BYTES, Q8_1_ACTIVATION, Q8_1_BLOCK_BYTES } from "./q8.js";
import { dotPath, uniformRoute } from "./route.js";
import { assertValuesInBounds, checkEncodedRow, int8ViewOf, readHalf, readU32, writeHalf, writeU32 } from "./scalar.js";

const BLOCK_SIZE = 32;
const FLT_MAX = 3.4028234663852886e38;

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
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    const xi0 = codes[j];
    const xi1 = codes[j + 16];
    bytes[qsOffset + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
    qh |= ((xi0 & 0x10) >>> 4) << j;
    qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
  }
  writeU32(bytes, qhOffset, qh >>> 0);
}

const codes = new Int32Array(BLOCK_SIZE);

const Q5_0_BLOCK_BYTES = 22;

export const Q5_0_KERNEL: WeightKernel = {
  type: GgmlType.Q5_0,
  blockSize: BLOCK_SIZE,
  blockBytes: Q5_0_BLOCK_BYTES,
  vecDotType: GgmlType.Q8_0,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q5_0, BLOCK_SIZE, Q5_0_BLOCK_BYTES, nValues, src, srcByteOffset);
    assertValuesInBounds(dst, dstOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const block = srcByteOffset + ib * Q5_0_BLOCK_BYTES;
      const d = readHalf(src, block);
      unpackCodes(src, block + 2, block + 6, codes);
      const out = dstOffset + ib * BLOCK_SIZE;
      for (let j = 0; j < BLOCK_SIZE; j++) dst[out + j] = (codes[j] - 16) * d;
    }
  },

  // quantize_row_q5_0_ref: d = max / -16 where max is the value of largest magnitude.
  quantizeRow(src, srcOffset, dst, dstByteOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q5_0, BLOCK_SIZE, Q5_0_BLOCK_BYTES, nValues, dst, dstByteOffset);
    assertValuesInBounds(src, srcOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const x = srcOffset + ib * BLOCK_SIZE;
      const block = dstByteOffset + ib * Q5_0_BLOCK_BYTES;
      let amax = 0;
      let max = 0;
      for (let j = 0; j < BLOCK_SIZE; j++) {
        const v = src[x + j];
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = Math.fround(max / -16);
      const id = d ? Math.fround(1 / d) : 0;
      writeHalf(dst, block, d);
      for (let j = 0; j < BLOCK_SIZE; j++) {
        codes[j] = Math.min(31, Math.trunc(Math.fround(Math.fround(src[x + j] * id) + 16.5)));
      }
      packCodes(codes, dst, block + 2, block + 6);
    }
  },

  // ggml_vec_dot_q5_0_q8_0 (AVX2) and llamafile tinyBLAS_Q0_AVX: 8 FMA lanes, hsum_float_8
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkEncodedRow(GgmlType.Q5_0, BLOCK_SIZE, Q5_0_BLOCK_BYTES, nValues, w, wByteOffset);
    checkEncodedRow(GgmlType.Q8_0, BLOCK_SIZE, Q8_0_BLOCK_BYTES, nValues, act, actByteOffset);
    const ai8 = int8ViewOf(act);
    resetLanes();
    for (let ib = 0; ib < nBlocks; ib++) {
      const wb = wByteOffset + ib * Q5_0_BLOCK_BYTES;
      const ab = actByteOffset + ib * Q8_0_BLOCK_BYTES;
      unpackCodes(w, wb + 2, wb + 6, CODES);
      for (let j = 0; j < BLOCK_SIZE; j++) CODES[j] -= 16;
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

export const Q5_1_KERNEL: WeightKernel = {
  type: GgmlType.Q5_1,
  blockSize: BLOCK_SIZE,
  blockBytes: Q5_1_BLOCK_BYTES,
  vecDotType: GgmlType.Q8_1,

  dequantizeRow(src, srcByteOffset, dst, dstOffset, nValues) {
    const nBlocks = checkEncodedRow(GgmlType.Q5_1, BLOCK_SIZE, Q5_1_BLOCK_BYTES, nValues, src, srcByteOffset);
    assertValuesInBounds(dst, dstOffset, nValues);
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
    const nBlocks = checkEncodedRow(GgmlType.Q5_1, BLOCK_SIZE, Q5_1_BLOCK_BYTES, nValues, dst, dstByteOffset);
    assertValuesInBounds(src, srcOffset, nValues);
    for (let ib = 0; ib < nBlocks; ib++) {
      const x = srcOffset + ib * BLOCK_SIZE;
      const block = dstByteOffset + ib * Q5_1_BLOCK_BYTES;
      let min = FLT_MAX;
      let max = -FLT_MAX;
      for (let j = 0; j < BLOCK_SIZE; j++) {
        const v = src[x + j];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const d = Math.fround(Math.fround(max - min) / 31);
      const id = d ? Math.fround(1 / d) : 0;
      writeHalf(dst, block, d);
      writeHalf(dst, block + 2, min);
      for (let j = 0; j < BLOCK_SIZE; j++) {
        // (uint8_t)(x0 + 0.5f): truncation, no clamp (as ggml)
        codes[j] = Math.trunc(Math.fround(Math.fround(Math.fround(src[x + j] - min) * id) + 0.5)) & 0xff;
      }
      packCodes(codes, dst, block + 4, block + 8);
    }
  },

  // ggml_vec_dot_q5_1_q8_1 (AVX2): 8 FMA lanes with d_w·d_a, plus Σ m_w·s_a in a scalar f32
  vecDot(nValues, w, wByteOffset, act, actByteOffset) {
    const nBlocks = checkEncodedRow(GgmlType.Q5_1, BLOCK_SIZE, Q5_1_BLOCK_BYTES, nValues, w, wByteOffset);
    checkEncodedRow(GgmlType.Q8_1, BLOCK_SIZE, Q8_1_BLOCK_BYTES, nValues, act, actByteOffset);
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
