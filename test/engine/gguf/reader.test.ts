import { describe, expect, it } from "vitest";
import { parseGguf, tensorData } from "../../../src/engine/gguf/reader.js";
import { GgufValueType, type GgufArray } from "../../../src/engine/gguf/types.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { expectGgufError, kvString, kvU32, rawGguf, RawBytes, type RawKv } from "../../helpers/ggufBytes.js";

/** One kv of every scalar type, each with a value that would be misread by a wrong width or sign. */
const ALL_SCALAR_KVS: { kv: RawKv; expected: unknown }[] = [
  { kv: { key: "t.u8", type: GgufValueType.UINT8, write: (b) => b.u8(250) }, expected: 250 },
  { kv: { key: "t.i8", type: GgufValueType.INT8, write: (b) => b.i8(-5) }, expected: -5 },
  { kv: { key: "t.u16", type: GgufValueType.UINT16, write: (b) => b.u16(65000) }, expected: 65000 },
  { kv: { key: "t.i16", type: GgufValueType.INT16, write: (b) => b.i16(-30000) }, expected: -30000 },
  { kv: { key: "t.u32", type: GgufValueType.UINT32, write: (b) => b.u32(4000000000) }, expected: 4000000000 },
  { kv: { key: "t.i32", type: GgufValueType.INT32, write: (b) => b.i32(-2000000000) }, expected: -2000000000 },
  { kv: { key: "t.f32", type: GgufValueType.FLOAT32, write: (b) => b.f32(1e-5) }, expected: Math.fround(1e-5) },
  { kv: { key: "t.bool.true", type: GgufValueType.BOOL, write: (b) => b.u8(1) }, expected: true },
  { kv: { key: "t.bool.false", type: GgufValueType.BOOL, write: (b) => b.u8(0) }, expected: false },
  { kv: { key: "t.string", type: GgufValueType.STRING, write: (b) => b.str("héllo ▁wörld 🦙") }, expected: "héllo ▁wörld 🦙" },
  { kv: { key: "t.u64", type: GgufValueType.UINT64, write: (b) => b.u64(2n ** 64n - 1n) }, expected: 2n ** 64n - 1n },
  { kv: { key: "t.i64", type: GgufValueType.INT64, write: (b) => b.i64(-(2n ** 62n)) }, expected: -(2n ** 62n) },
  { kv: { key: "t.f64", type: GgufValueType.FLOAT64, write: (b) => b.f64(Math.PI) }, expected: Math.PI },
];

describe("parseGguf header", () => {
  it.each([2, 3])("reads an empty v%i file (no tensors, no metadata)", (version) => {
    const file = parseGguf(rawGguf({ version }));
    expect(file.version).toBe(version);
    expect(file.tensors).toEqual([]);
    expect(file.metadata.size).toBe(0);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset).toBe(32); // 24-byte header padded to 32
  });
});

describe("parseGguf metadata values", () => {
  it("decodes all 13 value types with the right width, sign and encoding", () => {
    const array: RawKv = {
      key: "t.array",
      type: GgufValueType.ARRAY,
      write: (b) => b.u32(GgufValueType.INT16).u64(3).i16(-1).i16(2).i16(-3),
    };
    const file = parseGguf(rawGguf({ kvs: [...ALL_SCALAR_KVS.map((c) => c.kv), array] }));
    for (const { kv, expected } of ALL_SCALAR_KVS) {
      const entry = file.metadata.get(kv.key)!;
      expect(entry.type, kv.key).toBe(kv.type);
      expect(entry.value, kv.key).toEqual(expected);
    }
    expect(file.metadata.get("t.array")!.value).toEqual({ itemType: GgufValueType.INT16, items: [-1, 2, -3] });
    expect([...new Set([...file.metadata.values()].map((e) => e.type))].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it("keeps metadata in file order", () => {
    const file = parseGguf(rawGguf({ kvs: [kvU32("z", 1), kvU32("a", 2), kvU32("m", 3)] }));
    expect([...file.metadata.keys()]).toEqual(["z", "a", "m"]);
  });

  it("reads arrays of strings, of 64-bit integers and empty arrays", () => {
    const kvs: RawKv[] = [
      { key: "strings", type: GgufValueType.ARRAY, write: (b) => b.u32(GgufValueType.STRING).u64(3).str("<s>").str("").str("▁a") },
      { key: "u64s", type: GgufValueType.ARRAY, write: (b) => b.u32(GgufValueType.UINT64).u64(2).u64(7).u64(2n ** 63n) },
      { key: "empty", type: GgufValueType.ARRAY, write: (b) => b.u32(GgufValueType.FLOAT32).u64(0) },
    ];
    const file = parseGguf(rawGguf({ kvs }));
    expect((file.metadata.get("strings")!.value as GgufArray).items).toEqual(["<s>", "", "▁a"]);
    expect((file.metadata.get("u64s")!.value as GgufArray).items).toEqual([7n, 2n ** 63n]);
    expect(file.metadata.get("empty")!.value).toEqual({ itemType: GgufValueType.FLOAT32, items: [] });
  });

  it("reads nested arrays (array of arrays of u8, and of strings)", () => {
    const nested: RawKv = {
      key: "nested",
      type: GgufValueType.ARRAY,
      write: (b) =>
        b
          .u32(GgufValueType.ARRAY)
          .u64(2)
          .u32(GgufValueType.UINT8)
          .u64(2)
          .u8(1)
          .u8(2)
          .u32(GgufValueType.STRING)
          .u64(1)
          .str("x"),
    };
    const file = parseGguf(rawGguf({ kvs: [nested, kvU32("after", 9)] }));
    expect(file.metadata.get("nested")!.value).toEqual({
      itemType: GgufValueType.ARRAY,
      items: [
        { itemType: GgufValueType.UINT8, items: [1, 2] },
        { itemType: GgufValueType.STRING, items: ["x"] },
      ],
    });
    expect(file.metadata.get("after")!.value).toBe(9);
  });

  it("replaces invalid UTF-8 with U+FFFD instead of failing", () => {
    const kv: RawKv = { key: "bad", type: GgufValueType.STRING, write: (b) => b.u64(2).u8(0xff).u8(0x41) };
    expect(parseGguf(rawGguf({ kvs: [kv] })).metadata.get("bad")!.value).toBe("\ufffdA");
  });
});

describe("parseGguf tensors and alignment", () => {
  it("locates tensors after the aligned header and gives zero-copy views of their bytes", () => {
    const bytes = rawGguf({
      kvs: [kvString("general.architecture", "llama")],
      tensors: [
        { name: "a", dims: [4, 2], type: GgmlType.F32, offset: 0 },
        { name: "b", dims: [32], type: GgmlType.Q8_0, offset: 32 },
      ],
      nDataBytes: 32 + 34,
    });
    const file = parseGguf(bytes);
    expect(file.dataOffset % 32).toBe(0);
    const [a, b] = file.tensors;
    expect(a).toMatchObject({ name: "a", dims: [4, 2], type: GgmlType.F32, nElements: 8, nBytes: 32, relativeOffset: 0 });
    expect(a.fileOffset).toBe(file.dataOffset);
    expect(b).toMatchObject({ name: "b", nElements: 32, nBytes: 34, relativeOffset: 32, fileOffset: file.dataOffset + 32 });
    expect(file.tensorsByName.get("b")).toBe(b);
    expect(b.fileOffset + b.nBytes).toBe(bytes.length);

    const view = tensorData(file, b);
    expect(view.length).toBe(34);
    expect(view.buffer).toBe(bytes.buffer); // a view, not a copy
    bytes[b.fileOffset] = 0x7b;
    expect(view[0]).toBe(0x7b);
  });

  it("honours general.alignment for the data section start and tensor offsets", () => {
    const bytes = rawGguf({
      kvs: [kvU32("general.alignment", 256)],
      tensors: [
        { name: "a", dims: [3], type: GgmlType.F32, offset: 0 },
        { name: "b", dims: [3], type: GgmlType.F32, offset: 256 },
      ],
      alignment: 256,
      nDataBytes: 256 + 12,
    });
    const file = parseGguf(bytes);
    expect(file.alignment).toBe(256);
    expect(file.dataOffset).toBe(256);
    expect(file.tensors[1].fileOffset).toBe(512);
  });

  it("accepts alignment 1 and offsets that are not multiples of 32 under it", () => {
    const bytes = rawGguf({
      kvs: [kvU32("general.alignment", 1)],
      tensors: [{ name: "a", dims: [1], type: GgmlType.I8, offset: 3 }],
      alignment: 1,
      nDataBytes: 4,
    });
    const file = parseGguf(bytes);
    expect(file.tensors[0].fileOffset).toBe(file.dataOffset + 3);
  });

  it("accepts zero-sized dimensions (an empty tensor, which overlaps nothing)", () => {
    const bytes = rawGguf({
      tensors: [
        { name: "empty", dims: [0, 5], type: GgmlType.F32, offset: 0 },
        { name: "x", dims: [2], type: GgmlType.F32, offset: 0 },
      ],
      nDataBytes: 8,
    });
    const file = parseGguf(bytes);
    expect(file.tensors.map((t) => t.nBytes)).toEqual([0, 8]);
  });

  it("refuses tensors sharing bytes (one would silently alias the other's weights)", () => {
    const bytes = rawGguf({
      tensors: [
        { name: "x", dims: [16], type: GgmlType.F32, offset: 0 },
        { name: "alias", dims: [2], type: GgmlType.F32, offset: 32 },
      ],
      nDataBytes: 64,
    });
    const error = expectGgufError(() => parseGguf(bytes), "OVERLAPPING_TENSORS");
    expect(error.message).toMatch(/tensor "alias" data \[\d+, \d+\) overlaps tensor "x"/);
  });

  it("reads 4-dimensional tensors with the element count as the product of dims", () => {
    const bytes = rawGguf({ tensors: [{ name: "t4", dims: [2, 3, 4, 5], type: GgmlType.F16, offset: 0 }], nDataBytes: 240 });
    const t = parseGguf(bytes).tensors[0];
    expect(t.nElements).toBe(120);
    expect(t.nBytes).toBe(240);
  });

  it("parses a subarray of a larger buffer (byteOffset ≠ 0)", () => {
    const inner = rawGguf({ kvs: [kvU32("k", 77)], tensors: [{ name: "a", dims: [1], type: GgmlType.F32, offset: 0 }], nDataBytes: 4 });
    const outer = new Uint8Array(inner.length + 13);
    outer.set(inner, 13);
    const file = parseGguf(outer.subarray(13));
    expect(file.metadata.get("k")!.value).toBe(77);
    expect(file.fileBytes).toBe(inner.length);
  });

  it("is not fooled by a RawBytes builder mistake (sanity check of the helper)", () => {
    expect(new RawBytes().u64(2n ** 64n - 1n).toBytes()).toEqual(new Uint8Array(8).fill(0xff));
    expect(new RawBytes().i64(-2).toBytes()[0]).toBe(0xfe);
  });
});
