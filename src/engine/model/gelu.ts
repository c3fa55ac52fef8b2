/**
 * GeGLU as ggml's CPU backend computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16): the gate is
 * rounded to half and looked up in a table of tanh-approximated GELU values rounded to half
 * (ggml_table_gelu_f16, built from ggml_gelu_f32), then multiplied by up in f32; gates ≤ −10 give
 * 0 and gates ≥ 10 pass through.
 */
import { f16ToF32, f32ToF16 } from "../ggml/fp16.js";
import { fmaF32 } from "../quant/simd.js";

const f32 = Math.fround;
const GELU_COEF_A = f32(0.044715);
const SQRT_2_OVER_PI = f32(Math.sqrt(2 / Math.PI)); // 0.7978845608… (ggml: SQRT_2_OVER_PI)

/** ggml_gelu_f32: 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))) in f32. */
function geluF32(x: number): number {
  // GCC contracts 1 + (a·x)·x into a fused multiply-add
  const inner = f32(f32(SQRT_2_OVER_PI * x) * fmaF32(f32(GELU_COEF_A * x), x, 1));
  return f32(f32(0.5 * x) * f32(1 + f32(Math.tanh(inner))));
}

let table: Float32Array | undefined;

/** f32 [65536]: GELU of every half value, rounded to half and widened back (built on first use). */
function geluTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(1 << 16);
  for (let h = 0; h < table.length; h++) table[h] = f16ToF32(f32ToF16(geluF32(f16ToF32(h))));
  return table;
}

/** gate f32 [n] = gelu(gate) × up f32 [n], in place (the reference of ComputeBackend.geluMul). */
export function gegluInPlaceTypeScript(gate: Float32Array, up: Float32Array, n: number): void {
  const t = geluTable();
  for (let i = 0; i < n; i++) {
    const x = gate[i];
    if (x <= -10) gate[i] = 0;
    else if (x >= 10) gate[i] = f32(x * up[i]);
    else gate[i] = f32(t[f32ToF16(x)] * up[i]);
  }
}
