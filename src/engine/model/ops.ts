/**
 * Element-wise and row-wise operations of the transformer, in f32, following ggml's CPU
 * arithmetic (sums of squares and softmax denominators in double, as ggml_float).
 * Kernels put the output first: `rmsNorm(out, x, weight, …)`.
 */

/**
 * out[t] = x[t] / sqrt(mean(x[t]²) + eps) * weight, for each of nTokens rows.
 * @param out f32 [nTokens, n] (may alias x)
 * @param x f32 [nTokens, n]
 * @param weight f32 [n]
 */
export function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, n: number, nTokens: number, eps: number): void {
  for (let t = 0; t < nTokens; t++) {
    const base = t * n;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) sumSquares += x[base + i] * x[base + i];
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

/** gate[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x) (ggml_swiglu). */
export function siluMulInPlace(gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const silu = Math.fround(g / Math.fround(1 + Math.fround(Math.exp(-g))));
    gate[i] = silu * up[i];
  }
}

/**
 * In-place softmax of x[0..n) after scaling: p_i = exp(s·x_i − max) / Σ.
 * Entries beyond `n` are not touched (causal masking is done by passing the visible length).
 */
export function softmaxScaledInPlace(x: Float32Array, n: number, scale: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = Math.fround(x[i] * scale);
    x[i] = v;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.fround(Math.exp(x[i] - max));
    x[i] = e;
    sum += e;
  }
  const inv = Math.fround(1 / sum);
  for (let i = 0; i < n; i++) x[i] *= inv;
}

/** Index of the largest value (first one on ties). */
export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
