/**
 * The lane structure of llama.cpp's x86 AVX2 dot products for 32-value blocks (Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0 against Q8_0/Q8_1 activations; quants.c `ggml_vec_dot_*`, and llamafile's
 * tinyBLAS_Q0_AVX, which has the same arithmetic):
 * `mul_sum_i8_pairs_float` (VNNI `vpdpbusd`) leaves 8 int32 lanes, lane l holding the exact sum of
 * the products of values 4l..4l+3; each lane is converted to f32 and accumulated across blocks with
 * one FMA per block, `acc[l] = fma(d, lane[l], acc[l])`, where d = f32(d_w · d_a). The result is
 * `hsum_float_8(acc)`.
 *
 * Codes are the weight's signed integer values of one block, in value order.
 */
import { fmaF32, hsum8 } from "./simd.js";

/** f32 lane accumulators, reset by `resetLanes` */
const LANES = new Float64Array(8);
/** weight codes of the current block */
export const CODES = new Int32Array(32);

/** codes[j] = (low nibble of byte j) − bias and codes[j + 16] = (its high nibble) − bias for the 16 bytes at `bytes[qs]`. */
export function unpackNibbles(bytes: Uint8Array, qs: number, bias: number, codes: Int32Array): void {
  for (let j = 0; j < 16; j++) {
    const q = bytes[qs + j];
    codes[j] = (q & 0x0f) - bias;
    codes[j + 16] = (q >> 4) - bias;
  }
}

export function resetLanes(): void {
  LANES.fill(0);
}

/** LANES[l] = fma(d, Σ_{k<4} codes[4l+k]·act[aq+4l+k], LANES[l]) for the 8 lanes of one block. */
export function fmaBlockLanes(d: number, codes: Int32Array, act: Int8Array, aq: number): void {
  for (let l = 0; l < 8; l++) {
    const o = 4 * l;
    const sum = codes[o] * act[aq + o] + codes[o + 1] * act[aq + o + 1] + codes[o + 2] * act[aq + o + 2] + codes[o + 3] * act[aq + o + 3];
    LANES[l] = fmaF32(d, sum, LANES[l]);
  }
}

/** Copies the 8 lane accumulators into `out` (IQ4_NL's vec_dot keeps two sets). */
export function copyLanes(out: Float64Array): void {
  out.set(LANES);
}

/** hsum_float_8 of the lanes */
export function sumLanes(): number {
  return hsum8(LANES, 0);
}

/** Σ codes[j]·act[aq+j] over the 32 values of a block (exact integer). */
export function blockSum(codes: Int32Array, act: Int8Array, aq: number): number {
  let sum = 0;
  for (let j = 0; j < 32; j++) sum += codes[j] * act[aq + j];
  return sum;
}
