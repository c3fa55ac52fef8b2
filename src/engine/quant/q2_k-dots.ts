/**
 * Q2_K · Q8_K dot products with the arithmetic of llama.cpp's three x86 codes for Q2_K:
 * - `dotQ2KVec`: ggml_vec_dot_q2_K_q8_K (quants.c, AVX2), for weights that are not repacked:
 *   per super-block, lane k (of 8) first takes fma(dmin, m₂ₖ·S₂ₖ + m₂ₖ₊₁·S₂ₖ₊₁) (S: the
 *   activations' 16-value sums), then fma(d, Σ over the 8 vectors of 32 values of sc · the sum of
 *   the vector's values 4k..4k+3), with d = f32(d_a·d_w), dmin = −f32(d_a·dmin_w); hsum_float_8.
 * - `dotQ2KRepackedGemv`: ggml_gemv_q2_K_8x8_q8_K (repack.cpp, AVX2): per super-block one FMA of
 *   the integer Σ sc·q·a with f32(d_w·d_a) and one of Σ m·S with f32(dmin_w·d_a); acc − accMin.
 * - `dotQ2KRepackedGemm`: ggml_gemm_q2_K_8x8_q8_K (AVX-512): the same per 128 values.
 * Weight block: `{ uint8 scales[16]; uint8 qs[64]; half d; half dmin; }`.
 */
import { GgmlType } from "../ggml/types.js";
import { Q8_K_BLOCK_BYTES, Q8_K_BSUMS_OFFSET, Q8_K_LAYOUT, Q8_K_QS_OFFSET, QK_K } from "./q8_k.js";
import { type BlockLayout, checkDotRows, int8ViewOf, readF32, readHalf, readI16, dot4 } from "./scalar.js";
import { fmaF32, hsum8 } from "./simd.js";

const fr = Math.fround;
export const Q2_K_BLOCK_BYTES = 84;
export const QS_OFFSET = 16;
export const D_OFFSET = 80;
export const DMIN_OFFSET = 82;
export const Q2_K_LAYOUT: BlockLayout = { type: GgmlType.Q2_K, blockSize: QK_K, blockBytes: Q2_K_BLOCK_BYTES };

const codes = new Int32Array(QK_K);
const intLanes = new Int32Array(8);
const accLanes = new Float64Array(8);
/** per 16-value sub-block: Σ q·a */
const subDots = new Int32Array(16);

/** The 256 codes (0..3) of the block at `w[wb..]`, in value order, into `codes`. */
function unpackCodes(w: Uint8Array, wb: number): void {
  for (let i = 0; i < QK_K; i++) codes[i] = (w[wb + QS_OFFSET + 32 * (i >> 7) + (i & 31)] >> (2 * ((i >> 5) & 3))) & 3;
}

/** ggml_vec_dot_q2_K_q8_K, AVX2 */
export function dotQ2KVec(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(Q2_K_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  accLanes.fill(0);
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * Q2_K_BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const dAct = readF32(act, ab);
    const d = fr(dAct * readHalf(w, wb + D_OFFSET));
    const dmin = -fr(dAct * readHalf(w, wb + DMIN_OFFSET));
    for (let k = 0; k < 8; k++) {
      const bsums = ab + Q8_K_BSUMS_OFFSET + 4 * k;
      const prod = (w[wb + 2 * k] >> 4) * readI16(act, bsums) + (w[wb + 2 * k + 1] >> 4) * readI16(act, bsums + 2);
      accLanes[k] = fmaF32(dmin, prod, accLanes[k]);
    }
    unpackCodes(w, wb);
    intLanes.fill(0);
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    for (let v = 0; v < 8; v++) {
      for (let l = 0; l < 8; l++) {
        const i = 32 * v + 4 * l;
        const sum = dot4(codes, a, qa, i);
        intLanes[l] += (w[wb + 2 * v + (l >> 2)] & 0x0f) * sum;
      }
    }
    for (let l = 0; l < 8; l++) accLanes[l] = fmaF32(d, intLanes[l], accLanes[l]);
  }
  return hsum8(accLanes, 0);
}

/**
 * Repacked Q2_K (q2_K_8x8): acc += Σ sc·q·a · f32(d_w·d_a) and accMin += Σ m·S · f32(dmin_w·d_a)
 * with one FMA each per `subBlocksPerFma` 16-value sub-blocks; the result is acc − accMin.
 */
function dotRepacked(subBlocksPerFma: number, nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  const nBlocks = checkDotRows(Q2_K_LAYOUT, Q8_K_LAYOUT, nValues, w, wByteOffset, act, actByteOffset);
  const a = int8ViewOf(act);
  let acc = 0;
  let accMin = 0;
  for (let ib = 0; ib < nBlocks; ib++) {
    const wb = wByteOffset + ib * Q2_K_BLOCK_BYTES;
    const ab = actByteOffset + ib * Q8_K_BLOCK_BYTES;
    const dAct = readF32(act, ab);
    const d = fr(readHalf(w, wb + D_OFFSET) * dAct);
    const dmin = fr(readHalf(w, wb + DMIN_OFFSET) * dAct);
    unpackCodes(w, wb);
    const qa = act.byteOffset + ab + Q8_K_QS_OFFSET;
    for (let s = 0; s < 16; s++) {
      let sum = 0;
      for (let i = 16 * s; i < 16 * s + 16; i++) sum += codes[i] * a[qa + i];
      subDots[s] = sum;
    }
    for (let s0 = 0; s0 < 16; s0 += subBlocksPerFma) {
      let sum = 0;
      let sumMin = 0;
      for (let s = s0; s < s0 + subBlocksPerFma; s++) {
        sum += (w[wb + s] & 0x0f) * subDots[s];
        sumMin += (w[wb + s] >> 4) * readI16(act, ab + Q8_K_BSUMS_OFFSET + 2 * s);
      }
      acc = fmaF32(sum, d, acc);
      accMin = fmaF32(sumMin, dmin, accMin);
    }
  }
  return fr(acc - accMin);
}

/** ggml_gemv_q2_K_8x8_q8_K: one FMA per super-block */
export function dotQ2KRepackedGemv(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  return dotRepacked(16, nValues, w, wByteOffset, act, actByteOffset);
}

/** ggml_gemm_q2_K_8x8_q8_K (AVX-512): one FMA per 128 values */
export function dotQ2KRepackedGemm(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number {
  return dotRepacked(8, nValues, w, wByteOffset, act, actByteOffset);
}
