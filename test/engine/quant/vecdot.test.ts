/**
 * Row dot products: vecDot(weight row, quantized activation row) against the f64 dot product of
 * the dequantized weight and the dequantized activation. Both sides then see the same numbers,
 * so the only difference is f32 rounding (and, for Q8_1 partners, the block sum `s` stored as half).
 * Tolerances are relative to Σ|w_i·a_i|.
 */
import { describe, expect, it } from "vitest";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { activationQuantizer, WEIGHT_KERNELS } from "../../../src/engine/quant/table.js";
import { atOddOffset, dequantize, dot64, gaussianArray, quantize } from "./helpers.js";

/** f32 accumulation over a few hundred terms */
const MAX_VECDOT_REL_ERROR = 1e-6;
/** Q4_1/Q5_1 use the Q8_1 block sum s = d·Σq rounded to half (relative error ≤ 2^-11) for the min term */
const MAX_VECDOT_Q8_1_REL_ERROR = 5e-4;
/** against the exact dot of the unquantized f32 inputs: quantization error of weight and activation */
const MAX_QUANTIZED_DOT_REL_ERROR = new Map<GgmlType, number>([
  [GgmlType.F32, 1e-6],
  [GgmlType.F16, 1e-4],
  [GgmlType.BF16, 1e-3],
  [GgmlType.Q8_0, 3e-3],
  [GgmlType.Q4_0, 2e-2],
  [GgmlType.Q4_1, 2e-2],
  [GgmlType.Q5_0, 1e-2],
  [GgmlType.Q5_1, 1e-2],
  [GgmlType.Q2_K, 5e-2],
  [GgmlType.Q3_K, 3e-2],
  [GgmlType.Q4_K, 1.5e-2],
  [GgmlType.Q5_K, 1e-2],
  [GgmlType.Q6_K, 6e-3],
  [GgmlType.IQ4_NL, 2e-2],
  [GgmlType.IQ4_XS, 2e-2],
]);

const N_VALUES = 1024;

function encodeActivation(type: GgmlType, values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(rowBytes(type, values.length));
  activationQuantizer(type).quantizeRow(values, 0, bytes, 0, values.length);
  return bytes;
}

function absDot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] * b[i]);
  return sum;
}

describe("quant-vecdot", () => {
  for (const [type, kernel] of WEIGHT_KERNELS) {
    const name = GgmlType[type];
    const tolerance = kernel.vecDotType === GgmlType.Q8_1 ? MAX_VECDOT_Q8_1_REL_ERROR : MAX_VECDOT_REL_ERROR;

    it(`${name}·${GgmlType[kernel.vecDotType]} equals the f64 dot of the dequantized rows (rel ${tolerance})`, () => {
      for (let trial = 0; trial < 8; trial++) {
        const w = gaussianArray(N_VALUES, 100 + trial, 0.05);
        const a = gaussianArray(N_VALUES, 200 + trial, 3);
        const wBytes = quantize(type, w);
        const aBytes = encodeActivation(kernel.vecDotType, a);
        const wDequantized = dequantize(type, wBytes, N_VALUES);
        const aDequantized = new Float32Array(N_VALUES);
        activationQuantizer(kernel.vecDotType).dequantizeRow(aBytes, 0, aDequantized, 0, N_VALUES);
        const expected = dot64(wDequantized, aDequantized);
        const actual = kernel.vecDot(N_VALUES, wBytes, 0, aBytes, 0);
        expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * absDot(wDequantized, aDequantized));
        // and close to the dot of the original f32 rows
        expect(Math.abs(actual - dot64(w, a))).toBeLessThanOrEqual((MAX_QUANTIZED_DOT_REL_ERROR.get(type) ?? 0) * absDot(w, a));
      }
    });

    it(`${name}: vecDot reads rows at any byte offset and only its own nValues`, () => {
      const w = gaussianArray(2 * N_VALUES, 7);
      const a = gaussianArray(2 * N_VALUES, 8);
      const wBytes = quantize(type, w);
      const aBytes = encodeActivation(kernel.vecDotType, a);
      const wRow = rowBytes(type, N_VALUES);
      const aRow = rowBytes(kernel.vecDotType, N_VALUES);
      // the second half of each row on its own
      const secondHalf = kernel.vecDot(N_VALUES, wBytes.slice(wRow), 0, aBytes.slice(aRow), 0);
      expect(kernel.vecDot(N_VALUES, wBytes, wRow, aBytes, aRow)).toBe(secondHalf);
      const wOdd = atOddOffset(wBytes, 1);
      const aOdd = atOddOffset(aBytes, 3);
      expect(kernel.vecDot(N_VALUES, wOdd.buffer, wOdd.offset + wRow, aOdd.buffer, aOdd.offset + aRow)).toBe(secondHalf);
    });

    it(`${name}: vecDot of a zero row is 0`, () => {
      const aBytes = encodeActivation(kernel.vecDotType, gaussianArray(N_VALUES, 9));
      expect(kernel.vecDot(N_VALUES, quantize(type, new Float32Array(N_VALUES)), 0, aBytes, 0)).toBe(0);
    });
  }

  it("F32 accumulates in 4 × 16 f32 FMA lanes, reduced in AVX-512 order (llama.cpp's ggml_vec_dot_f32)", () => {
    // w = [1, 2^-30 × 1023], a = 1: lane 0 keeps 1 (its 2^-30 terms are lost), the 63 others hold
    // 16·2^-30 each; folding 64 → 16 lanes and the tree reduction keep exactly 7 of the 8 ulps a
    // correctly rounded sum would have (sequential f32 accumulation would give exactly 1).
    const n = 1024;
    const w = new Float32Array(n).fill(2 ** -30);
    w[0] = 1;
    const a = new Float32Array(n).fill(1);
    const kernel = WEIGHT_KERNELS.get(GgmlType.F32)!;
    const result = kernel.vecDot(n, new Uint8Array(w.buffer), 0, new Uint8Array(a.buffer), 0);
    expect(result).toBe(1 + 7 * 2 ** -23);
    expect(Math.fround(1 + 1023 * 2 ** -30)).toBe(1 + 8 * 2 ** -23);
  });

  it("rejects a row that is not whole blocks, and activation rows shorter than the weight row", () => {
    const kernel = WEIGHT_KERNELS.get(GgmlType.Q4_K)!;
    const w = quantize(GgmlType.Q4_K, gaussianArray(512, 1));
    const a = encodeActivation(GgmlType.Q8_K, gaussianArray(256, 2));
    expect(() => kernel.vecDot(300, w, 0, a, 0)).toThrow(expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }));
    expect(() => kernel.vecDot(512, w, 0, a, 0)).toThrow(expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }));
  });
});
