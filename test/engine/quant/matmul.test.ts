/** matmul over every weight type on odd shapes, against a naive reference. */
import { describe, expect, it } from "vitest";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { dequantizeRows, matmul, MatmulScratch } from "../../../src/engine/quant/matmul.js";
import { Q8_K_ACTIVATION_4X8 } from "../../../src/engine/quant/q8_k.js";
import { activationQuantizer, WEIGHT_KERNELS } from "../../../src/engine/quant/table.js";
import { dequantize, gaussianArray, quantize } from "./helpers.js";

/** matmul vs f64 dot of dequantized weight and dequantized activation codes (f32 rounding only) */
const MAX_MATMUL_REL_ERROR = 1e-6;
const MAX_MATMUL_Q8_1_REL_ERROR = 5e-4;

/**
 * Naive reference: out[t][r] = Σ_c W[r][c]·X'[t][c] in f64, where W is the dequantized weight and
 * X' each activation row passed through the vec_dot_type quantizer and back. Also returns
 * Σ|W·X'| per output for the tolerance.
 */
function naiveMatmul(
  type: GgmlType,
  weight: Uint8Array,
  x: Float32Array,
  nCols: number,
  nRows: number,
  nTokens: number,
): { out: Float64Array; scale: Float64Array } {
  const w = dequantize(type, weight, nCols * nRows);
  const actType = WEIGHT_KERNELS.get(type)!.vecDotType;
  const codec = activationQuantizer(actType);
  const xq = new Float32Array(nCols * nTokens);
  const buf = new Uint8Array(rowBytes(actType, nCols));
  for (let t = 0; t < nTokens; t++) {
    codec.quantizeRow(x, t * nCols, buf, 0, nCols);
    codec.dequantizeRow(buf, 0, xq, t * nCols, nCols);
  }
  const out = new Float64Array(nTokens * nRows);
  const scale = new Float64Array(nTokens * nRows);
  for (let t = 0; t < nTokens; t++) {
    for (let r = 0; r < nRows; r++) {
      let sum = 0;
      let abs = 0;
      for (let c = 0; c < nCols; c++) {
        sum += w[r * nCols + c] * xq[t * nCols + c];
        abs += Math.abs(w[r * nCols + c] * xq[t * nCols + c]);
      }
      out[t * nRows + r] = sum;
      scale[t * nRows + r] = abs;
    }
  }
  return { out, scale };
}

describe("quant-matmul", () => {
  const scratch = new MatmulScratch();

  for (const [type, kernel] of WEIGHT_KERNELS) {
    const name = GgmlType[type];
    const nCols = kernel.blockSize === 256 ? 512 : kernel.blockSize === 32 ? 96 : 37;
    const tolerance = kernel.vecDotType === GgmlType.Q8_1 ? MAX_MATMUL_Q8_1_REL_ERROR : MAX_MATMUL_REL_ERROR;

    for (const [nRows, nTokens] of [
      [13, 1],
      [7, 7],
    ]) {
      it(`${name}: [${nTokens}×${nCols}] · [${nRows}×${nCols}]ᵀ matches the naive reference`, () => {
        const weight = quantize(type, gaussianArray(nRows * nCols, nRows * 31 + nTokens, 0.1));
        const x = gaussianArray(nTokens * nCols, 99 + nTokens);
        const out = new Float32Array(nTokens * nRows).fill(NaN);
        matmul(out, weight, type, x, nCols, nRows, nTokens, scratch);
        const { out: expected, scale } = naiveMatmul(type, weight, x, nCols, nRows, nTokens);
        for (let i = 0; i < out.length; i++) {
          expect(Math.abs(out[i] - expected[i])).toBeLessThanOrEqual(tolerance * scale[i] + 1e-30);
        }
        // each output is exactly the row dot of the kernel's route for that token, at [t * nRows + r]
        const route = kernel.route(nCols, nRows, nTokens);
        const actRow = rowBytes(kernel.vecDotType, nCols);
        const act = new Uint8Array(actRow);
        for (const t of [0, nTokens - 1]) {
          const path = t < route.nBatched ? route.batched : route.single;
          path.activation.quantizeRow(x, t * nCols, act, 0, nCols);
          const r = nRows - 2;
          expect(out[t * nRows + r]).toBe(path.dot(nCols, weight, r * rowBytes(type, nCols), act, 0));
        }
      });
    }
  }

  it("routes each shape the way llama.cpp's CPU backend does (sgemm, repacked gemm/gemv, vec_dot)", () => {
    const kernel = (type: GgmlType) => WEIGHT_KERNELS.get(type)!;
    const f32 = kernel(GgmlType.F32);
    expect(f32.route(256, 16, 1).nBatched).toBe(0); // one token: vec_dot
    expect(f32.route(256, 16, 5).nBatched).toBe(5); // llamafile tinyBLAS
    expect(f32.route(172, 16, 5).nBatched).toBe(0); // row length not a multiple of 16
    expect(f32.route(256, 18, 5).nBatched).toBe(0); // row count not a multiple of 4
    expect(kernel(GgmlType.BF16).route(176, 16, 5).nBatched).toBe(0); // BF16 needs multiples of 32
    expect(kernel(GgmlType.BF16).route(256, 16, 5).nBatched).toBe(5);
    const q4_0 = kernel(GgmlType.Q4_0);
    expect(q4_0.route(256, 20, 1).single.dot).toBe(q4_0.vecDot);
    expect(q4_0.route(256, 16, 1).single.dot).not.toBe(q4_0.vecDot); // repacked (rows % 8 == 0)
    const q4_k = kernel(GgmlType.Q4_K);
    expect(q4_k.route(512, 20, 9)).toMatchObject({ nBatched: 0, single: { dot: q4_k.vecDot } });
    expect(q4_k.route(512, 16, 3).nBatched).toBe(0); // repacked gemv only
    const repacked = q4_k.route(512, 16, 9);
    expect(repacked.nBatched).toBe(8); // gemm for 2 groups of 4, gemv for the last token
    expect(repacked.batched.activation).toBe(Q8_K_ACTIVATION_4X8);
    expect(repacked.single.dot).not.toBe(q4_k.vecDot);
    for (const type of [GgmlType.Q4_1, GgmlType.Q5_1, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.Q5_0]) {
      const route = kernel(type).route(256, 16, 9);
      expect(route.single.dot).toBe(kernel(type).vecDot);
      expect(route.batched.dot).toBe(kernel(type).vecDot);
    }
  });

  it("one token at a time gives the same outputs as the batch (batched prefill = sequential decode)", () => {
    const nCols = 256;
    const nRows = 5;
    const nTokens = 4;
    const weight = quantize(GgmlType.Q6_K, gaussianArray(nRows * nCols, 1));
    const x = gaussianArray(nTokens * nCols, 2);
    const batch = new Float32Array(nTokens * nRows);
    matmul(batch, weight, GgmlType.Q6_K, x, nCols, nRows, nTokens, scratch);
    for (let t = 0; t < nTokens; t++) {
      const single = new Float32Array(nRows);
      matmul(single, weight, GgmlType.Q6_K, x.subarray(t * nCols, (t + 1) * nCols), nCols, nRows, 1);
      expect(Array.from(single)).toEqual(Array.from(batch.subarray(t * nRows, (t + 1) * nRows)));
    }
  });

  it("reuses the scratch buffer when it is large enough (no allocation per call)", () => {
    const own = new MatmulScratch();
    const first = own.bytes(1000);
    const weight = quantize(GgmlType.Q8_0, gaussianArray(4 * 64, 3));
    const out = new Float32Array(8);
    matmul(out, weight, GgmlType.Q8_0, gaussianArray(2 * 64, 4), 64, 4, 2, own); // needs 2 × 68 bytes
    expect(own.bytes(0)).toBe(first);
    expect(own.bytes(5000)).not.toBe(first);
  });

  it("rejects shapes that do not fit", () => {
    const weight = quantize(GgmlType.Q4_0, gaussianArray(2 * 64, 5));
    const x = gaussianArray(64, 6);
    expect(() => matmul(new Float32Array(2), weight, GgmlType.Q4_0, x, 48, 2, 1)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => matmul(new Float32Array(3), weight, GgmlType.Q4_0, x, 64, 3, 1)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => matmul(new Float32Array(2), weight, GgmlType.Q4_0, x, 64, 2, 2)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => matmul(new Float32Array(1), weight, GgmlType.Q4_0, x, 64, 2, 1)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => matmul(new Float32Array(2), weight, GgmlType.IQ2_XXS, x, 64, 2, 1)).toThrow(
      expect.objectContaining({ code: "UNSUPPORTED_TENSOR_TYPE" }),
    );
  });

  it("dequantizeRows writes at dstOffset and rejects unsupported types", () => {
    const values = gaussianArray(64, 7);
    const bytes = quantize(GgmlType.Q5_1, values);
    const out = new Float32Array(70);
    dequantizeRows(GgmlType.Q5_1, bytes, 0, out, 64, 6);
    expect(Array.from(out.subarray(6))).toEqual(Array.from(dequantize(GgmlType.Q5_1, bytes, 64)));
    expect(() => dequantizeRows(GgmlType.IQ2_XXS, bytes, 0, out, 64)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_TENSOR_TYPE" }));
  });
});
