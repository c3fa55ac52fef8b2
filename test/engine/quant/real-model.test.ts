/**
 * Real weights: TinyStories-656K in F32 (derived from the safetensors) and its quantized GGUFs
 * (the upstream Q8_0 file, and F16/Q4_0/Q4_1/Q5_0/Q5_1 made by llama.cpp's llama_model_quantize,
 * see the shared models README). Dequantizing must land close to the F32 weights, and our reference
 * quantizers applied to the F32 weights must reproduce llama.cpp's bytes exactly.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseGguf, tensorData } from "../../../src/engine/gguf/reader.js";
import type { GgufFile } from "../../../src/engine/gguf/types.js";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { dequantizeRows } from "../../../src/engine/quant/matmul.js";
import { weightKernel } from "../../../src/engine/quant/table.js";
import { modelFile } from "../../helpers/paths.js";
import { relativeL2Error } from "./helpers.js";

/** Relative L2 error of dequantized weights vs F32 per type (the README states ≈ 0.5% for Q8_0). */
const MAX_RELATIVE_L2_ERROR = new Map<GgmlType, number>([
  [GgmlType.F32, 0],
  [GgmlType.F16, 1e-3],
  [GgmlType.Q8_0, 0.006],
  [GgmlType.Q5_1, 0.045],
  [GgmlType.Q5_0, 0.05],
  [GgmlType.Q4_1, 0.09],
  [GgmlType.Q4_0, 0.1],
]);
const MIN_Q8_0_RELATIVE_L2_ERROR = 0.004;

const FILES = [
  "TinyStories-656K-Q8_0.gguf",
  "TinyStories-656K-F16.gguf",
  "TinyStories-656K-Q4_0.gguf",
  "TinyStories-656K-Q4_1.gguf",
  "TinyStories-656K-Q5_0.gguf",
  "TinyStories-656K-Q5_1.gguf",
];

function load(relativePath: string): GgufFile {
  return parseGguf(new Uint8Array(readFileSync(modelFile(relativePath))));
}

function tensorValues(file: GgufFile, name: string): Float32Array {
  const info = file.tensorsByName.get(name);
  if (!info) throw new Error(`no tensor ${name}`);
  const out = new Float32Array(info.nElements);
  dequantizeRows(info.type, tensorData(file, info), 0, out, info.nElements);
  return out;
}

describe("quant-real-model TinyStories-656K", () => {
  const f32 = load("TinyStories-656K-F32.gguf");

  it("blk.0.attn_q.weight: Q8_0 dequantizes to the F32 weights within ≈ 0.5% relative L2", () => {
    const q8 = load("TinyStories-656K-Q8_0.gguf");
    expect(q8.tensorsByName.get("blk.0.attn_q.weight")?.type).toBe(GgmlType.Q8_0);
    const error = relativeL2Error(tensorValues(q8, "blk.0.attn_q.weight"), tensorValues(f32, "blk.0.attn_q.weight"));
    expect(error).toBeGreaterThan(MIN_Q8_0_RELATIVE_L2_ERROR);
    expect(error).toBeLessThan(MAX_RELATIVE_L2_ERROR.get(GgmlType.Q8_0)!);
  });

  for (const file of FILES) {
    it(`${path.basename(file)}: every tensor dequantizes near F32 and re-quantizing F32 reproduces its bytes`, () => {
      const quantized = load(file);
      expect(quantized.tensors.length).toBe(f32.tensors.length);
      for (const info of quantized.tensors) {
        const reference = tensorValues(f32, info.name);
        const values = tensorValues(quantized, info.name);
        const limit = MAX_RELATIVE_L2_ERROR.get(info.type);
        expect(limit, `${info.name} type ${GgmlType[info.type]}`).toBeDefined();
        expect(relativeL2Error(values, reference), info.name).toBeLessThanOrEqual(limit!);

        const requantized = new Uint8Array(rowBytes(info.type, info.nElements));
        weightKernel(info.type).quantizeRow(reference, 0, requantized, 0, info.nElements);
        expect(Buffer.from(requantized).equals(Buffer.from(tensorData(quantized, info))), info.name).toBe(true);
      }
    });
  }
});
