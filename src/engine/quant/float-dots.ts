/**
 * Dot products of f32, half and bfloat16 rows with the arithmetic of llama.cpp's x86 CPU backend
 * as node-llama-cpp ships it for this machine class (the `zen4` build: AVX-512 F/BW/VL, FMA, F16C,
 * AVX512_BF16; compiled by GCC). Two families, because ggml uses two different codes:
 *
 * - `*Vec`: `ggml_vec_dot_{f32,f16,bf16}` (vec.cpp), used for one activation row (decode, the
 *   output head) and for batches llamafile does not take. f32/f16: 4 × 16 f32 lanes with FMA over
 *   64-value steps, reduced (acc0+acc2) + (acc1+acc3), then `_mm512_reduce_add_ps`; leftovers after
 *   the last full 64 values are added one by one. bf16: `vdpbf16ps` into two 16-lane accumulators.
 * - `*Tiled`: llamafile's `tinyBLAS` (sgemm.cpp), used for batches (≥ 2 rows) when the row length
 *   is a multiple of its vector width: one 16-lane accumulator per output, FMA (f32/f16) or
 *   `vdpbf16ps` (bf16, 32 values per step), then `_mm512_reduce_add_ps`.
 *
 * Rows are given as typed arrays and element offsets; halves as their 16-bit patterns.
 * Not emulated: the flush-to-zero of subnormals by `vdpbf16ps` (irrelevant for model activations).
 */
import { HALF_TO_F32_TABLE as HALF, bf16ToF32 } from "../ggml/fp16.js";
import { fmaF32, reduceAdd16 } from "./simd.js";

const fr = Math.fround;
const acc64 = new Float64Array(64);
const lanes16 = new Float64Array(16);
const lanes32 = new Float64Array(32);

/** all 65536 bfloat16 bit patterns → f32 */
const BF16 = (() => {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = bf16ToF32(bits);
  return table;
})();

/** Folds the 4 × 16 lane accumulators of the vec.cpp loop into 16 lanes and reduces them. */
function reduce4x16(): number {
  for (let l = 0; l < 16; l++) lanes16[l] = fr(fr(acc64[l] + acc64[32 + l]) + fr(acc64[16 + l] + acc64[48 + l]));
  return reduceAdd16(lanes16, 0);
}

/** `ggml_vec_dot_f32` (AVX-512): Σ x[xo+i]·y[yo+i], i < n. */
export function dotF32Vec(n: number, x: Float32Array, xo: number, y: Float32Array, yo: number): number {
  const np = n & ~63;
  acc64.fill(0);
  for (let i = 0; i < np; i += 64) {
    for (let k = 0; k < 64; k++) acc64[k] = fmaF32(x[xo + i + k], y[yo + i + k], acc64[k]);
  }
  let s = reduce4x16();
  // GCC vectorised the scalar leftover loop: whole groups of 8 as separate multiply and add
  // (in order), the last n % 8 values with a fused multiply-add.
  const split = np + ((n - np) & ~7);
  let i = np;
  for (; i < split; i++) s = fr(s + fr(x[xo + i] * y[yo + i]));
  for (; i < n; i++) s = fmaF32(x[xo + i], y[yo + i], s);
  return s;
}

/**
 * halfFma: for halves a, b and an f32 c, `fr(a*b + c)` is the fused multiply-add: a·b has at most
 * 22 significant bits, and a double sum of it and c is either exact or so lopsided (exponents more
 * than 29 apart) that it cannot land on an f32 rounding midpoint, so rounding twice is harmless.
 * (The same holds for bfloat16 products; for f32 products `fmaF32` is needed.)
 */

/** `ggml_vec_dot_f16` (AVX-512, F16C): halves as bits; the leftovers are summed in double. */
export function dotF16Vec(n: number, x: Uint16Array, xo: number, y: Uint16Array, yo: number): number {
  const np = n & ~63;
  acc64.fill(0);
  for (let i = 0; i < np; i += 64) {
    for (let k = 0; k < 64; k++) acc64[k] = fr(HALF[x[xo + i + k]] * HALF[y[yo + i + k]] + acc64[k]); // = fma, see halfFma
  }
  let s = reduce4x16(); // ggml_float (double) from here on; half products are exact
  for (let i = np; i < n; i++) s += HALF[x[xo + i]] * HALF[y[yo + i]];
  return fr(s);
}

/**
 * `vdpbf16ps` on one f32 lane: acc += x[2j+1]·y[2j+1], then acc += x[2j]·y[2j], each rounded to
 * f32 (bf16 products are exact in f32).
 */
function dpbf16(acc: number, x: Uint16Array, xi: number, y: Uint16Array, yi: number): number {
  return fr(fr(acc + BF16[x[xi + 1]] * BF16[y[yi + 1]]) + BF16[x[xi]] * BF16[y[yi]]);
}

/** `ggml_vec_dot_bf16` (AVX512_BF16): two 16-lane `vdpbf16ps` accumulators over 64-value steps. */
export function dotBf16Vec(n: number, x: Uint16Array, xo: number, y: Uint16Array, yo: number): number {
  const np = n & ~63;
  // lane j of the first accumulator sees values 2j, 2j+1 of each 64; the second, 32 + 2j, 33 + 2j
  for (let j = 0; j < 32; j++) {
    let acc = 0;
    for (let i = 2 * j; i < np; i += 64) acc = dpbf16(acc, x, xo + i, y, yo + i);
    lanes32[j] = acc;
  }
  let s = reduceAdd16(lanes32, 0); // ggml_float (double) from here on
  s += reduceAdd16(lanes32, 16);
  for (let i = np; i < n; i++) s += BF16[x[xo + i]] * BF16[y[yo + i]];
  return fr(s);
}

/** llamafile tinyBLAS<16, __m512, f32>: Σ with 16 FMA lanes, then `_mm512_reduce_add_ps`. n % 16 === 0. */
export function dotF32Tiled(n: number, x: Float32Array, xo: number, y: Float32Array, yo: number): number {
  lanes16.fill(0);
  for (let i = 0; i < n; i += 16) {
    for (let k = 0; k < 16; k++) lanes16[k] = fmaF32(x[xo + i + k], y[yo + i + k], lanes16[k]);
  }
  return reduceAdd16(lanes16, 0);
}

/** llamafile tinyBLAS<16, __m512, fp16>: halves widened to f32, 16 FMA lanes. n % 16 === 0. */
export function dotF16Tiled(n: number, x: Uint16Array, xo: number, y: Uint16Array, yo: number): number {
  lanes16.fill(0);
  for (let i = 0; i < n; i += 16) {
    for (let k = 0; k < 16; k++) lanes16[k] = fr(HALF[x[xo + i + k]] * HALF[y[yo + i + k]] + lanes16[k]); // = fma, see halfFma
  }
  return reduceAdd16(lanes16, 0);
}

/** llamafile tinyBLAS<32, __m512, __m512bh>: `vdpbf16ps` over 32 values per step. n % 32 === 0. */
export function dotBf16Tiled(n: number, x: Uint16Array, xo: number, y: Uint16Array, yo: number): number {
  for (let j = 0; j < 16; j++) {
    let acc = 0;
    for (let i = 2 * j; i < n; i += 32) acc = dpbf16(acc, x, xo + i, y, yo + i);
    lanes16[j] = acc;
  }
  return reduceAdd16(lanes16, 0);
}

/** bfloat16 bits → f32 value (table). */
export const BF16_TO_F32_TABLE: Readonly<Float32Array> = BF16;
