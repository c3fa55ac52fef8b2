/**
 * f32 arithmetic of x86 SIMD code, emulated in JS doubles: fused multiply-add with one rounding,
 * and the horizontal sums llama.cpp's x86 kernels use, in their exact association order.
 *
 * Plain f32 `+`, `-`, `*` are `Math.fround` of the double result: the double result of two f32
 * operands is close enough that rounding it again to f32 gives the correctly rounded f32 result.
 * A fused `a*b + c` is different: `a*b` is exact in a double (24 + 24 significand bits), but the
 * double sum `a*b + c` may already be rounded, and rounding that to f32 again can differ from one
 * rounding of the exact value ("double rounding"). That happens only when the double sum lands
 * exactly halfway between two f32 values while the exact sum did not; `fmaF32` detects that
 * case and decides the tie from the exact error of the double sum (TwoSum).
 */

const fr = Math.fround;

/** x86 `vfmadd`: a*b + c rounded once to f32, for f32 values a, b, c. */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact
  const s = p + c;
  const r = fr(s);
  if (r === s || r === Infinity || r === -Infinity) return r; // exact, or beyond the f32 range
  // Only a double sum exactly halfway between two adjacent f32 values can round the wrong way.
  const other = 2 * s - r;
  if (fr(other) !== other || s - r !== other - s) return r;
  const pv = s - p; // TwoSum: s + err === p + c exactly
  const err = p - (s - pv) + (c - pv);
  if (err === 0) return r;
  return err > 0 === other > r ? other : r;
}

/**
 * `hsum_float_8` (ggml's x86 quants.c, and llamafile's hsum of a __m256):
 * ((x4+x0) + (x6+x2)) + ((x5+x1) + (x7+x3)), each step rounded to f32.
 */
export function hsum8(x: Float64Array, base: number): number {
  const a0 = fr(x[base + 4] + x[base]);
  const a1 = fr(x[base + 5] + x[base + 1]);
  const a2 = fr(x[base + 6] + x[base + 2]);
  const a3 = fr(x[base + 7] + x[base + 3]);
  return fr(fr(a0 + a2) + fr(a1 + a3));
}

/**
 * GCC's `_mm512_reduce_add_ps`: halves of 8, 4, 2 lanes added lane-wise, then the last two.
 * t[i] = x[i+8] + x[i]; u[i] = t[i+4] + t[i]; (u0 + u2) + (u1 + u3).
 */
export function reduceAdd16(x: Float64Array, base: number): number {
  const t0 = fr(x[base + 8] + x[base]);
  const t1 = fr(x[base + 9] + x[base + 1]);
  const t2 = fr(x[base + 10] + x[base + 2]);
  const t3 = fr(x[base + 11] + x[base + 3]);
  const t4 = fr(x[base + 12] + x[base + 4]);
  const t5 = fr(x[base + 13] + x[base + 5]);
  const t6 = fr(x[base + 14] + x[base + 6]);
  const t7 = fr(x[base + 15] + x[base + 7]);
  const u0 = fr(t4 + t0);
  const u1 = fr(t5 + t1);
  const u2 = fr(t6 + t2);
  const u3 = fr(t7 + t3);
  return fr(fr(u0 + u2) + fr(u1 + u3));
}

// ggml_v_expf constants (vec.h), as f32 values of the C hex literals
const EXP_ROUND = 12582912; // 0x1.8p23
const EXP_LOG2E = 1.4426950216293335; // 0x1.715476p+0
const EXP_LN2_HI = 0.693145751953125; // 0x1.62e4p-1
const EXP_LN2_LO = 1.428606765330187e-6; // 0x1.7f7d1cp-20
const EXP_C0 = 0.008247390389442444; // 0x1.0e4020p-7
const EXP_C1 = 0.04189976677298546; // 0x1.573e2ep-5
const EXP_C2 = 0.16668395698070526; // 0x1.555e66p-3
const EXP_C3 = 0.4999912679195404; // 0x1.fffdb6p-2
const EXP_C4 = 0.9999994039535522; // 0x1.ffffecp-1

/**
 * One lane of ggml's `ggml_v_expf` (vec.h, AVX-512 variant): e^x for f32 x with ggml's own
 * range reduction and polynomial (not libm's expf), as llama.cpp's CPU softmax and SiLU use it on
 * whole 16-value chunks. |n| > 192 saturates to 0 or +∞ as ggml does (so e^-∞ = 0).
 */
export function expfAvx512(x: number): number {
  const z = fmaF32(x, EXP_LOG2E, EXP_ROUND);
  const n = fr(z - EXP_ROUND);
  const b = fmaF32(-n, EXP_LN2_LO, fmaF32(-n, EXP_LN2_HI, x));
  if (Math.abs(n) > 192) return n <= 0 ? 0 : Infinity;
  const u = fr(b * b);
  const j = fmaF32(fmaF32(fmaF32(EXP_C0, b, EXP_C1), u, fmaF32(EXP_C2, b, EXP_C3)), u, fmaF32(EXP_C4, b, 1));
  return fr(j * 2 ** n); // _mm512_scalef_ps: n is integral here
}

/** One lane of ggml's `ggml_v_silu` (AVX-512): x / (1 + ggml_v_expf(-x)). */
export function siluAvx512(x: number): number {
  return fr(x / fr(1 + expfAvx512(fr(0 - x))));
}
