import { expfAvx512, reduceAdd16, siluAvx512 } from "../quant/simd.js";
/**
 * Element-wise and row-wise operations of the transformer, in f32, following ggml's CPU
 * arithmetic (sums of squares and softmax denominators in double, as ggml_float).
 * Kernels put the output first: `rmsNorm(out, x, weight, …)`.
 *
 * The `…TypeScript` functions are the reference kernels of the TypeScript ComputeBackend, which
 * the native addon's are tested against (same bits).
 */

/**
 * out[t] = x[t] / sqrt(mean(x[t]²) + eps) * weight, for each of nTokens rows (the reference of
 * ComputeBackend.rmsNorm).
 * @param out f32 [nTokens, n] (may alias x)
 * @param x f32 [nTokens, n]
 * @param weight f32 [n]
 */
export function rmsNormTypeScript(out: Float32Array, x: Float32Array, weight: Float32Array, n: number, nTokens: number, eps: number): void {
  for (let t = 0; t < nTokens; t++) {
    const base = t * n;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) sumSquares += Math.fround(x[base + i] * x[base + i]);
    const mean = Math.fround(sumSquares / n);
    const scale = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(mean + eps))));
    for (let i = 0; i < n; i++) out[base + i] = Math.fround(x[base + i] * scale) * weight[i];
  }
}

/** a[i] += b[i] (f32, in place) */
export function addInPlace(a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) a[i] += b[i];
}

/** Adds a bias f32 [n] to each of nTokens rows of x f32 [nTokens, n]. */
export function addBiasRows(x: Float32Array, bias: Float32Array, n: number, nTokens: number): void {
  for (let t = 0; t < nTokens; t++) {
    const base = t * n;
    for (let i = 0; i < n; i++) x[base + i] += bias[i];
  }
}

/**
 * gate[i] = silu(gate[i]) * up[i] over one row of n values (ggml_vec_swiglu_f32, AVX-512):
 * ggml_v_silu on whole 16-value chunks, x / (1 + expf(-x)) with libm's expf for the last n % 16.
 * Call it per row: the chunks restart at every row. (The reference of ComputeBackend.siluMul.)
 */
export function siluMulInPlaceTypeScript(gate: Float32Array, up: Float32Array, n: number): void {
  const fr = Math.fround;
  const simd = n & ~15;
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const silu = i < simd ? siluAvx512(g) : fr(g / fr(1 + fr(Math.exp(-g))));
    gate[i] = fr(silu * up[i]);
  }
}

/**
 * In-place softmax of x[0..n) after scaling, as ggml_soft_max_ext computes a row of KQ whose
 * masked (-inf) tail pads it to a multiple of 16 (n_kv is padded to 256): p_i = e_i · f32(1/Σ)
 * with e_i = ggml_v_expf(f32(s·x_i) − max); Σ in double over `_mm512_reduce_add_ps` of each
 * 16-value chunk (masked entries are 0).
 */
export function softmaxScaledInPlace(x: Float32Array, n: number, scale: number): void {
  const fr = Math.fround;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = fr(x[i] * scale);
    x[i] = v;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let c = 0; c < n; c += 16) {
    for (let k = 0; k < 16; k++) {
      const i = c + k;
      lanes[k] = i < n ? expfAvx512(fr(x[i] - max)) : 0;
      if (i < n) x[i] = lanes[k];
    }
    sum += reduceAdd16(lanes, 0);
  }
  const inv = fr(1 / sum);
  for (let i = 0; i < n; i++) x[i] = fr(x[i] * inv);
}
const lanes = new Float64Array(16);

/** Index of the largest value (first one on ties). */
export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** x[0 … n) *= scale, each product rounded to f32 (ggml_scale). */
export function scaleInPlace(x: Float32Array, scale: number, n = x.length): void {
  for (let i = 0; i < n; i++) x[i] = Math.fround(x[i] * scale);
}

/** x[0 … n) = cap · tanh(x / cap), each step rounded to f32 (ggml_scale, ggml_tanh, ggml_scale: gemma2's final logit soft-capping). */
export function softCapInPlace(x: Float32Array, cap: number, n = x.length): void {
  const inv = Math.fround(1 / cap);
  for (let i = 0; i < n; i++) x[i] = Math.fround(Math.fround(Math.tanh(Math.fround(x[i] * inv))) * cap);
}
