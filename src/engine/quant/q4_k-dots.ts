/**
 * Q4_K · Q8_K dot products with the arithmetic of llama.cpp's three x86 codes for Q4_K:
 * - `dotQ4KVec`: ggml_vec_dot_q4_K_q8_K (quants.c, AVX2), for weights that are not repacked;
 * - `dotQ4KRepackedGemv`: ggml_gemv_q4_K_8x8_q8_K (repack.cpp), one activation row;
 * - `dotQ4KRepackedGemm`: ggml_gemm_q4_K_8x8_q8_K (AVX-512/AVX2), groups of 4 activation rows.
 * They differ only in how the exact integer sums are grouped before f32 rounding:
 * vec: 8 lanes of 4 consecutive values, one FMA per super-block and lane, mins in 4 lanes;
 * gemv: one FMA per super-block for the whole scaled sum and one for the mins; gemm: the same
 * per pair of 32-value sub-blocks. Weight block: `{ half d; half dmin; uint8 scales[12]; uint8 qs[128]; }`.
 */
import { GgmlType } from "../ggml/types.js";
import { Q8_K_BLOCK_BYTES, Q8_K_BSUMS_OFFSET, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { type BlockLayout, checkDotRows, int8ViewOf, readF32, readHalf, readI16 } from "./scalar.js";
import { fmaF32, hsum8 } from "./simd.js";

const fr = Math.fround;
// block_q4_K layout (q4_k.ts uses it too)
export const Q4_K_BLOCK_BYTES = 144;
export const DMIN_OFFSET = 2;
export const SCALES_OFFSET = 4;
export const QS_OFFSET = 16;
export const Q4_K_LAYOUT: BlockLayout = { type: GgmlType.Q4_K, blockSize: QK_K, blockBytes: Q4_K_BLOCK_BYTES };

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
const scales = new Int32Array(8);
const mins = new Int32Array(8);
/** per sub-block: Σ q·a over its 32 values */
const subDots = new Int32Array(8);
/** per sub-block: Σ a over its 32 values (from the Q8_K bsums) */
const subSums = new Int32Array(8);
const intLanes = new Int32Array(8);
const accLanes = new Float64Array(8);
const minLanes = new Float64Array(4);

/** Fills `scales`, `mins` and `subSums` for one (weight block, activation block) pair. */
function loadBlock(w: Uint8Array, wb: number, act: Uint8Array, ab: number): void {
  for (let j = 0; j < 8; j++) {
    scaleMinK4(j, w, wb + SCALES_OFFSET, scaleMin);
    scales[j] = scaleMin[0];
    mins[j] = scaleMin[1];
    subSums[j] = readI16(act, ab + Q8_K_BSUMS_OFFSET + 4 * j) + readI16(act, ab + Q8_K_BSUMS_OFFSET + 4 * j + 2);
  }
}

/** Value 32·s + b of the block (s < 8, b < 32): low nibbles hold even sub-blocks, high nibbles odd. */
function code(w: Uint8Array, qs: number, s: number, b: number): number {
  const byte = w[qs + 32 * (s >> 1) + b];
  return s & 1 ? byte >> 4 : byte & 0x0f;
}

/** Fills `subDots` with Σ q·a per 32-value sub-block. */
function loadSubDots(w: Uint8Array, wb: number, a: Int8Array, qa: number): void {
  const qs = wb + QS_OFFSET;
  for (let k = 0; k < 4; k++) {
    let low = 0;
    let high = 0;
    for (let b = 0; b < 32; b++) {
      const byte = w[qs + 32 * k + b];
      low += (byte & 0x0f) * a[qa + 64 * k + b];
      high += (byte >> 4) * a[qa + 64 * k + 32 + b];
    }
    subDots[2 * k] = low;
    subDots[2 * k + 1] = high;
  }
}

/** ggml_vec_dot_q4_K_q8_K, AVX2 */
export function dotQ4KVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(Q4_K_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  accLanes.fill(0);
  minLanes.fill(0);
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * Q4_K_BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const dAct = readF32(act, ab);
    const d = fr(dAct * readHalf(w, wb));
    const dmin = -fr(dAct * readHalf(w, wb + DMIN_OFFSET));
    loadBlock(w, wb, act, ab);
    for (let k = 0; k < 4; k++) minLanes[k] = fmaF32(dmin, mins[2 * k] * subSums[2 * k] + mins[2 * k + 1] * subSums[2 * k + 1], minLanes[k]);
    intLanes.fill(0);
    const qs = wb + QS_OFFSET;
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    for (let s = 0; s < 8; s++) {
      const scale = scales[s];
      for (let l = 0; l < 8; l++) {
        const b = 4 * l;
        const i = qa + 32 * s + b;
        const sum =
          code(w, qs, s, b) * a[i] + code(w, qs, s, b + 1) * a[i + 1] + code(w, qs, s, b + 2) * a[i + 2] + code(w, qs, s, b + 3) * a[i + 3];
        intLanes[l] += scale * sum;
      }
    }
    for (let l = 0; l < 8; l++) accLanes[l] = fmaF32(d, fr(intLanes[l]), accLanes[l]);
  }
  return fr(hsum8(accLanes, 0) + fr(fr(minLanes[0] + minLanes[2]) + fr(minLanes[1] + minLanes[3])));
}

/**
 * Repacked Q4_K (q4_K_8x8): acc += Σ(scaled sums)·f32(d·d_a) and accMin += Σ(mins·sums)·f32(dmin·d_a)
 * with one FMA per `subBlocksPerFma` sub-blocks; the result is acc − accMin.
 */
function dotRepacked(subBlocksPerFma: number, nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(Q4_K_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  let acc = 0;
  let accMin = 0;
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * Q4_K_BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const dAct = readF32(act, ab);
    const d = fr(readHalf(w, wb) * dAct);
    const dmin = fr(readHalf(w, wb + DMIN_OFFSET) * dAct);
    loadBlock(w, wb, act, ab);
    loadSubDots(w, wb, a, act.byteOffset + ab + Q8_K_QS_OFFSET);
    for (let s0 = 0; s0 < 8; s0 += subBlocksPerFma) {
      let sum = 0;
      let sumMin = 0;
      for (let s = s0; s < s0 + subBlocksPerFma; s++) {
        sum += scales[s] * subDots[s];
        sumMin += mins[s] * subSums[s];
      }
      acc = fmaF32(fr(sum), d, acc);
      accMin = fmaF32(fr(sumMin), dmin, accMin);
    }
  }
  return fr(acc - accMin);
}

/** ggml_gemv_q4_K_8x8_q8_K: one FMA per super-block */
export function dotQ4KRepackedGemv(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  return dotRepacked(8, nValues, w, wByteOffset, act, actByteOffset);
}

/** ggml_gemm_q4_K_8x8_q8_K: one FMA per pair of sub-blocks (64 values) */
export function dotQ4KRepackedGemm(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  return dotRepacked(2, nValues, w, wByteOffset, act, actByteOffset);
}
