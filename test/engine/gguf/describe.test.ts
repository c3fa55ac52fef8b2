import { afterAll, describe, expect, it } from "vitest";
import { describeGguf, groupDigits, inspectGguf } from "../../../src/engine/gguf/describe.js";
import { openGguf, parseGguf } from "../../../src/engine/gguf/reader.js";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { modelFile } from "../../helpers/paths.js";

const storiesPath = modelFile("stories260K.gguf");

describe("inspectGguf on stories260K", () => {
  const file = openGguf(storiesPath);
  afterAll(() => file.dispose());
  const report = inspectGguf(file);

  it("summarises the file, hyper-parameters and tokenizer", () => {
    expect(report).toMatchObject({
      path: storiesPath,
      fileBytes: 1_185_376,
      version: 3,
      alignment: 32,
      architecture: "llama",
      name: "llama",
      nParameters: 292_800,
    });
    expect(report.hyperParameters).toEqual({
      context_length: 2048,
      embedding_length: 64,
      block_count: 5,
      feed_forward_length: 172,
      "attention.head_count": 8,
      "attention.head_count_kv": 4,
      "attention.layer_norm_rms_epsilon": 1e-5,
      "rope.dimension_count": 8,
    });
    expect(report.tokenizer).toMatchObject({ model: "llama", nTokens: 512, bosId: 1, bosText: "<s>", eosId: 2, eosText: "</s>" });
    expect(report.tokenizer?.nMerges).toBeUndefined();
  });

  it("lists 48 tensors and sums bytes per layer", () => {
    expect(report.tensors).toHaveLength(48);
    expect(report.tensors[0]).toMatchObject({ name: "token_embd.weight", type: "F32", dims: [64, 512], nBytes: 131_072 });
    expect(report.layers.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
    // per layer: q 64x64, k 64x32, v 64x32, o 64x64, 3 ffn 64x172, 2 norms 64 — all F32
    const layerBytes = 4 * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3 + 64 * 2);
    expect(report.layers.every((l) => l.nTensors === 9 && l.nBytes === layerBytes)).toBe(true);
    expect(report.nonLayer).toEqual({ nTensors: 3, nBytes: 4 * (64 * 512 * 2 + 64) });
    expect(report.totalTensorBytes).toBe(5 * layerBytes + report.nonLayer.nBytes);
  });

  it("is JSON-serialisable without loss", () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe("describeGguf", () => {
  it("prints the stories260K report with aligned columns", () => {
    using file = openGguf(storiesPath);
    const text = describeGguf(file);
    expect(text.endsWith("\n")).toBe(true);
    expect(text).toContain("size          1,185,376 bytes (1.13 MiB)");
    expect(text).toContain("format        GGUF v3, alignment 32, 19 metadata keys");
    expect(text).toContain("architecture  llama");
    expect(text).toContain("  block_count                       5");
    expect(text).toContain("  attention.layer_norm_rms_epsilon  0.00001");
    expect(text).toContain('  bos            1 "<s>"');
    expect(text).toContain("tensors (48)");
    expect(text).toMatch(/^ {2}token_embd\.weight +F32 +\[64, 512\] +131,072$/m);
    expect(text).toMatch(/^ {2}blk\.4 +9 +181,760 +177\.50 KiB$/m);
    expect(text).toMatch(/^ {2}total +48 +1,171,200 +1\.12 MiB$/m);

    // the tensor table's columns line up: every row's "[" starts at the same column
    const tensorRows = text.split("\n").filter((line) => /^ {2}(blk|token_embd|output)/.test(line) && line.includes("["));
    expect(tensorRows).toHaveLength(48);
    expect(new Set(tensorRows.map((line) => line.indexOf("["))).size).toBe(1);
  });

  it("shows only what is present for a bare file, and summarises long arrays", () => {
    const file = parseGguf(
      new GgufWriter()
        .setString("general.architecture", "qwen2")
        .setUint32("qwen2.block_count", 2)
        .setArray("qwen2.per_layer", GgufValueType.INT32, [1, 2])
        .setArray("qwen2.long", GgufValueType.UINT8, new Array(100).fill(0))
        .setUint64("qwen2.big", 2n ** 63n)
        .addTensor("blk.1.w", [2], GgmlType.F32, new Uint8Array(8))
        .addTensor("blk.0.w", [2], GgmlType.F32, new Uint8Array(8))
        .toBytes(),
    );
    const report = inspectGguf(file);
    expect(report.tokenizer).toBeUndefined();
    expect(report.name).toBeUndefined();
    expect(report.hyperParameters).toEqual({ block_count: 2, per_layer: [1, 2], long: "[100 items]", big: "9223372036854775808" });
    expect(report.layers.map((l) => l.index)).toEqual([0, 1]);
    const text = describeGguf(file);
    expect(text).not.toContain("tokenizer");
    expect(text).toContain("per_layer    [1, 2]");
  });

  it("groups digits", () => {
    expect(groupDigits(0)).toBe("0");
    expect(groupDigits(999)).toBe("999");
    expect(groupDigits(1000)).toBe("1,000");
    expect(groupDigits(1185376)).toBe("1,185,376");
  });
});
