import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openGguf, parseGguf, tensorData } from "../../../src/engine/gguf/reader.js";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { GgufValueType, type GgufValue } from "../../../src/engine/gguf/types.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { expectGgufError } from "../../helpers/ggufBytes.js";
import { modelFile } from "../../helpers/paths.js";

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-gguf-writer-"));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function sequentialBytes(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

const VALUES: [string, GgufValueType, GgufValue][] = [
  ["v.u8", GgufValueType.UINT8, 255],
  ["v.i8", GgufValueType.INT8, -128],
  ["v.u16", GgufValueType.UINT16, 65535],
  ["v.i16", GgufValueType.INT16, -32768],
  ["v.u32", GgufValueType.UINT32, 4294967295],
  ["v.i32", GgufValueType.INT32, -2147483648],
  ["v.f32", GgufValueType.FLOAT32, Math.fround(0.1)],
  ["v.bool", GgufValueType.BOOL, true],
  ["v.string", GgufValueType.STRING, "▁tokén 🦙"],
  ["v.u64", GgufValueType.UINT64, 2n ** 64n - 1n],
  ["v.i64", GgufValueType.INT64, -(2n ** 63n)],
  ["v.f64", GgufValueType.FLOAT64, 1 / 3],
  [
    "v.nested",
    GgufValueType.ARRAY,
    {
      itemType: GgufValueType.ARRAY,
      items: [
        { itemType: GgufValueType.INT32, items: [1, -2] },
        { itemType: GgufValueType.STRING, items: ["a", "b", "c"] },
      ],
    },
  ],
];

describe("GgufWriter round trip", () => {
  it("writes every value type with its declared type and reads it back equal, in order", () => {
    const writer = new GgufWriter();
    for (const [key, type, value] of VALUES) writer.set(key, type, value);
    const file = parseGguf(writer.toBytes());
    expect(file.version).toBe(3);
    expect([...file.metadata.keys()]).toEqual(VALUES.map(([key]) => key));
    for (const [key, type, value] of VALUES) {
      expect(file.metadata.get(key), key).toEqual({ key, type, value });
    }
  });

  it("lets the caller choose u32 vs i32 vs f32 for the same number", () => {
    const bytes = new GgufWriter().setUint32("a", 7).setInt32("b", 7).setFloat32("c", 7).setUint64("d", 7).toBytes();
    const types = [...parseGguf(bytes).metadata.values()].map((e) => e.type);
    expect(types).toEqual([GgufValueType.UINT32, GgufValueType.INT32, GgufValueType.FLOAT32, GgufValueType.UINT64]);
  });

  it("writes tensors at aligned offsets with zero padding, in the order added", () => {
    const a = sequentialBytes(3 * 4, 1);
    const q = sequentialBytes(34 * 2, 50);
    const writer = new GgufWriter()
      .setString("general.architecture", "llama")
      .addTensor("a", [3], GgmlType.F32, a)
      .addTensor("q", [32, 2], GgmlType.Q8_0, q);
    const bytes = writer.toBytes();
    const file = parseGguf(bytes);
    expect(file.tensors.map((t) => [t.name, t.relativeOffset, t.nBytes])).toEqual([
      ["a", 0, 12],
      ["q", 32, 68],
    ]);
    expect(tensorData(file, file.tensors[0])).toEqual(a);
    expect(tensorData(file, file.tensors[1])).toEqual(q);
    expect(bytes.subarray(file.dataOffset + 12, file.dataOffset + 32).every((b) => b === 0)).toBe(true);
    expect(bytes.length % 32).toBe(0); // the last tensor is padded too, as llama.cpp writes it
    expect(writer.layout()).toEqual({ dataOffset: file.dataOffset, relativeOffsets: [0, 32], totalBytes: bytes.length });
  });

  it("honours general.alignment", () => {
    const bytes = new GgufWriter()
      .setUint32("general.alignment", 64)
      .addTensor("a", [1], GgmlType.F32, sequentialBytes(4))
      .addTensor("b", [1], GgmlType.F32, sequentialBytes(4, 9))
      .toBytes();
    const file = parseGguf(bytes);
    expect(file.alignment).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    expect(file.tensors[1].relativeOffset).toBe(64);
    expect(tensorData(file, file.tensors[1])).toEqual(sequentialBytes(4, 9));
  });

  it("writes v2 when asked (same layout, version 2)", () => {
    const file = parseGguf(new GgufWriter({ version: 2 }).setUint32("x", 1).toBytes());
    expect(file.version).toBe(2);
    expect(file.metadata.get("x")!.value).toBe(1);
  });

  it("setting a key again replaces its value in place", () => {
    const file = parseGguf(new GgufWriter().setUint32("a", 1).setUint32("b", 2).setString("a", "x").toBytes());
    expect([...file.metadata.entries()].map(([k, e]) => [k, e.value])).toEqual([
      ["a", "x"],
      ["b", 2],
    ]);
  });

  it.each(["stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "TinyStories-656K-Q5_1.gguf"])(
    "re-writes %s byte for byte from its parsed metadata and tensors",
    (relative) => {
      const original = fs.readFileSync(modelFile(relative));
      const file = parseGguf(original);
      const writer = new GgufWriter({ version: file.version });
      for (const entry of file.metadata.values()) writer.setEntry(entry);
      for (const t of file.tensors) writer.addTensor(t.name, t.dims, t.type, tensorData(file, t));
      const rewritten = writer.toBytes();
      expect(rewritten.length).toBe(original.length);
      expect(Buffer.compare(Buffer.from(rewritten), original)).toBe(0);
    },
  );
});

describe("GgufWriter.writeFile", () => {
  it("streams tensors from producers called once each, at write time, and matches toBytes", async () => {
    const calls: string[] = [];
    const producer = (name: string, n: number, start: number) => () => {
      calls.push(name);
      return sequentialBytes(n, start);
    };
    const writer = new GgufWriter()
      .setString("general.name", "streamed")
      .addTensor("a", [5], GgmlType.F32, producer("a", 20, 3))
      .addTensor("b", [64], GgmlType.Q4_0, producer("b", 36, 7))
      .addTensor("c", [2], GgmlType.F16, sequentialBytes(4, 11));
    expect(calls).toEqual([]);
    const target = path.join(tmpDir, "streamed.gguf");
    await writer.writeFile(target);
    expect(calls).toEqual(["a", "b"]);

    calls.length = 0;
    const inMemory = writer.toBytes();
    expect(Buffer.compare(fs.readFileSync(target), Buffer.from(inMemory))).toBe(0);

    using file = openGguf(target);
    expect(tensorData(file, file.tensorsByName.get("b")!)).toEqual(sequentialBytes(36, 7));
  });

  it("removes the partial file and reports TENSOR_SIZE_MISMATCH when a producer returns the wrong size", async () => {
    const target = path.join(tmpDir, "bad.gguf");
    const writer = new GgufWriter()
      .addTensor("ok", [1], GgmlType.F32, sequentialBytes(4))
      .addTensor("bad", [4], GgmlType.F32, () => sequentialBytes(3));
    await expect(writer.writeFile(target)).rejects.toMatchObject({ code: "TENSOR_SIZE_MISMATCH" });
    expect(fs.existsSync(target)).toBe(false);
  });

  it("reports IO with the path when the directory does not exist", async () => {
    const target = path.join(tmpDir, "missing-dir", "x.gguf");
    await expect(new GgufWriter().writeFile(target)).rejects.toMatchObject({ code: "IO", path: target });
  });
});

describe("GgufWriter validation", () => {
  it.each<[GgufValueType, GgufValue]>([
    [GgufValueType.UINT8, 256],
    [GgufValueType.INT8, 128],
    [GgufValueType.UINT16, -1],
    [GgufValueType.UINT32, 2 ** 32],
    [GgufValueType.INT32, 1.5],
    [GgufValueType.UINT64, -1n],
    [GgufValueType.INT64, 2n ** 63n],
    [GgufValueType.BOOL, 1],
    [GgufValueType.STRING, 5],
    [GgufValueType.FLOAT32, "1"],
  ])("rejects type %i with value %s as BAD_VALUE", (type, value) => {
    expectGgufError(() => new GgufWriter().set("k", type, value), "BAD_VALUE");
  });

  it("rejects a bad array item and a bad value type", () => {
    expectGgufError(() => new GgufWriter().setArray("k", GgufValueType.UINT8, [1, 300]), "BAD_VALUE");
    expectGgufError(() => new GgufWriter().set("k", 13 as GgufValueType, 1), "BAD_VALUE_TYPE");
  });

  it("rejects general.alignment that is not a u32 power of 2", () => {
    expectGgufError(() => new GgufWriter().setUint32("general.alignment", 24), "BAD_ALIGNMENT");
    expectGgufError(() => new GgufWriter().setInt32("general.alignment", 32), "BAD_ALIGNMENT");
  });

  it("rejects bad tensors", () => {
    const w = new GgufWriter().addTensor("t", [1], GgmlType.F32, sequentialBytes(4));
    expectGgufError(() => w.addTensor("t", [1], GgmlType.F32, sequentialBytes(4)), "DUPLICATE_TENSOR");
    expectGgufError(() => w.addTensor("u", [2], GgmlType.F32, sequentialBytes(4)), "TENSOR_SIZE_MISMATCH");
    expectGgufError(() => w.addTensor("u", [16], GgmlType.Q8_0, sequentialBytes(17)), "BAD_BLOCK_MULTIPLE");
    expectGgufError(() => w.addTensor("u", [1, 1, 1, 1, 1], GgmlType.F32, sequentialBytes(4)), "TOO_MANY_DIMS");
    expectGgufError(() => w.addTensor("u", [-1], GgmlType.F32, sequentialBytes(4)), "BAD_DIM");
    expectGgufError(() => w.addTensor("u", [1], 99 as GgmlType, sequentialBytes(4)), "UNKNOWN_TENSOR_TYPE");
    expect(w.nTensors).toBe(1);
  });
});
