/**
 * Bit-exact conformance of matmul with llama.cpp's CPU backend: the fixture holds the outputs of
 * whole ggml_mul_mat graphs that node-llama-cpp's libggml-cpu computed for seeded inputs, over
 * every path it takes on x86 (vec_dot, llamafile sgemm and its fallbacks, repacked Q4_0/Q4_K
 * gemv/gemm); see fixtures/make-matmul-golden.py.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { matmul, MatmulScratch } from "../../../src/engine/quant/matmul.js";
import { decodeBase64F32, quantize, sweepValues } from "./helpers.js";

interface MatmulCase {
  readonly type: keyof typeof GgmlType;
  readonly nCols: number;
  readonly nRows: number;
  readonly nTokens: number;
  readonly buffer: string;
  readonly weightSeed: number;
  readonly xSeed: number;
  readonly out: string;
}

const golden = JSON.parse(readFileSync(new URL("./fixtures/matmul-golden.json", import.meta.url), "utf8")) as {
  cases: MatmulCase[];
};

describe("quant-matmul-golden: matmul equals llama.cpp's ggml_mul_mat bit for bit", () => {
  const scratch = new MatmulScratch();
  it.each(golden.cases.map((c) => [`${c.type} [${c.nRows}×${c.nCols}] × ${c.nTokens} tokens (${c.buffer})`, c] as const))(
    "%s",
    (_, c) => {
      const type = GgmlType[c.type];
      const weight = quantize(type, sweepValues(c.weightSeed, c.nRows * c.nCols));
      const x = sweepValues(c.xSeed, c.nTokens * c.nCols);
      const out = new Float32Array(c.nTokens * c.nRows);
      matmul(out, weight, type, x, c.nCols, c.nRows, c.nTokens, scratch);
      const expected = decodeBase64F32(c.out);
      const mismatches: string[] = [];
      for (let i = 0; i < out.length; i++) {
        if (!Object.is(out[i], expected[i])) mismatches.push(`[t${Math.floor(i / c.nRows)} r${i % c.nRows}] ${out[i]} ≠ ${expected[i]}`);
      }
      expect(mismatches).toEqual([]);
    },
  );
});
