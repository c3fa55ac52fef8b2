/**
 * What ggml's reference quantizers of the 32-value block types share (ggml-quants.c
 * `quantize_row_q4_0_ref`, `_q5_0_ref`, `_q4_1_ref`, `_q5_1_ref`): the block scale (and min) and
 * one integer code per value, every f32 operation rounded as in C. Each type then packs the codes
 * its own way (`packNibbles` for the low 4 bits).
 */
import { signedAbsMax, writeHalf } from "./scalar.js";

const fr = Math.fround;
const BLOCK_SIZE = 32;
const FLT_MAX = 3.4028234663852886e38;

/**
 * Q4_0 (`bias` 8) and Q5_0 (`bias` 16), whose code − bias is the value in units of d:
 * d = max / -bias, where max is the value of largest magnitude (sign kept), written as half at
 * `dst[dOffset]`; codes[j] = min(2·bias − 1, (int)(x_j·(1/d) + bias + 0.5)).
 */
export function quantizeBlockSymmetric(src: Float32Array, x: number, bias: number, dst: Uint8Array, dOffset: number, codes: Int32Array): void {
  const d = fr(signedAbsMax(src, x, BLOCK_SIZE) / -bias);
  const id = d ? fr(1 / d) : 0;
  writeHalf(dst, dOffset, d);
  const maxCode = 2 * bias - 1;
  for (let j = 0; j < BLOCK_SIZE; j++) codes[j] = Math.min(maxCode, Math.trunc(fr(fr(src[x + j] * id) + (bias + 0.5))));
}

/**
 * Q4_1 (`maxCode` 15) and Q5_1 (31): d = (max − min) / maxCode and m = min, written as halves at
 * `dst[dOffset]` and `dst[mOffset]`; codes[j] = (int)((x_j − min)·(1/d) + 0.5), clamped to
 * `clampCode` (Q4_1: 15; Q5_1 does not clamp: Infinity, as ggml's `(uint8_t)` cast).
 */
export function quantizeBlockWithMin(
  src: Float32Array,
  x: number,
  maxCode: number,
  clampCode: number,
  dst: Uint8Array,
  dOffset: number,
  mOffset: number,
  codes: Int32Array,
): void {
  let min = FLT_MAX;
  let max = -FLT_MAX;
  for (let j = 0; j < BLOCK_SIZE; j++) {
    const v = src[x + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const d = fr(fr(max - min) / maxCode);
  const id = d ? fr(1 / d) : 0;
  writeHalf(dst, dOffset, d);
  writeHalf(dst, mOffset, min);
  for (let j = 0; j < BLOCK_SIZE; j++) codes[j] = Math.min(clampCode, Math.trunc(fr(fr(fr(src[x + j] - min) * id) + 0.5)));
}

/** The low 4 bits of the 32 codes into 16 bytes at `bytes[qs]`: value j in the low nibble of byte j, value j + 16 in its high nibble. */
export function packNibbles(codes: Int32Array, bytes: Uint8Array, qs: number): void {
  for (let j = 0; j < 16; j++) bytes[qs + j] = (codes[j] & 0x0f) | ((codes[j + 16] & 0x0f) << 4);
}
