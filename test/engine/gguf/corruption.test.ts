/** One hand-built corrupt file per reader error code; each must be rejected with that code. */
import { describe, expect, it } from "vitest";
import { parseGguf } from "../../../src/engine/gguf/reader.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { expectGgufError, kvString, kvU32, patched, rawGguf, type RawBytes, type RawKv, type RawTensor } from "../../helpers/ggufBytes.js";

const f32Tensor = (name: string, offset: number | bigint = 0, dims: (number | bigint)[] = [4]): RawTensor => ({
  name,
  dims,
  type: GgmlType.F32,
  offset,
});

const arrayKv = (key: string, itemType: number, count: bigint | number, items: (b: RawBytes) => void = () => {}): RawKv => ({
  key,
  type: GgufValueType.ARRAY,
  write: (b) => {
    b.u32(itemType).u64(count);
    items(b);
  },
});

describe("BAD_MAGIC", () => {
  it("names the expected and actual magic and offset 0", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({ magic: "GGML" })), "BAD_MAGIC");
    expect(error.message).toBe('bad magic at offset 0: expected "GGUF", got "GGML"');
    expect(error.offset).toBe(0);
  });
  it("shows unprintable magic as hex", () => {
    const bytes = patched(rawGguf({}), (v) => v.setUint32(0, 0x04034b50, true)); // a zip file
    expect(expectGgufError(() => parseGguf(bytes), "BAD_MAGIC").message).toContain("0x504b0304");
  });
});

describe("UNSUPPORTED_VERSION", () => {
  it.each([1, 4, 0])("rejects version %i", (version) => {
    const error = expectGgufError(() => parseGguf(rawGguf({ version })), "UNSUPPORTED_VERSION");
    expect(error.message).toContain(`expected 2 or 3, got ${version}`);
  });
  it("hints at a big-endian file when the version is byte-swapped", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({ version: 0x03000000 })), "UNSUPPORTED_VERSION");
    expect(error.message).toContain("big-endian");
  });
});

describe("TRUNCATED", () => {
  it("rejects a file shorter than the magic", () => {
    expectGgufError(() => parseGguf(new Uint8Array([0x47, 0x47])), "TRUNCATED");
  });
  it("rejects a header cut inside the kv count, naming the offset", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({}).subarray(0, 20)), "TRUNCATED");
    expect(error.offset).toBe(16);
    expect(error.message).toContain("metadata kv count");
  });
  it("rejects a value cut short", () => {
    const whole = rawGguf({ kvs: [kvU32("a", 1), kvU32("b", 2)] });
    const endOfB = 24 + (8 + 1 + 4 + 4) * 2;
    expectGgufError(() => parseGguf(whole.subarray(0, endOfB - 2)), "TRUNCATED");
  });
});

describe("COUNT_TOO_LARGE (fails before allocating)", () => {
  it("rejects an array count of 2^60 at once", () => {
    const started = performance.now();
    const error = expectGgufError(() => parseGguf(rawGguf({ kvs: [arrayKv("huge", GgufValueType.UINT8, 2n ** 60n)] })), "COUNT_TOO_LARGE");
    expect(performance.now() - started).toBeLessThan(100);
    expect(error.message).toContain("1152921504606846976");
  });
  it("rejects string arrays whose minimum 8 bytes per item cannot fit", () => {
    const bytes = rawGguf({ kvs: [arrayKv("tokens", GgufValueType.STRING, 1000, (b) => b.zeros(100))] });
    expectGgufError(() => parseGguf(bytes), "COUNT_TOO_LARGE");
  });
  it("rejects a kv count that cannot fit", () => {
    expectGgufError(() => parseGguf(rawGguf({ kvCount: 2n ** 62n })), "COUNT_TOO_LARGE");
  });
  it("rejects a tensor count that cannot fit", () => {
    expectGgufError(() => parseGguf(rawGguf({ tensorCount: 2n ** 40n })), "COUNT_TOO_LARGE");
  });
});

describe("STRING_TOO_LONG", () => {
  it("rejects a key whose length is 2^63", () => {
    const bytes = patched(rawGguf({ kvs: [kvU32("k", 1)] }), (v) => v.setBigUint64(24, 2n ** 63n, true));
    const error = expectGgufError(() => parseGguf(bytes), "STRING_TOO_LONG");
    expect(error.offset).toBe(24);
  });
  it("rejects a string value longer than the rest of the file", () => {
    const kv: RawKv = { key: "s", type: GgufValueType.STRING, write: (b) => b.str("short", 1000) };
    expectGgufError(() => parseGguf(rawGguf({ kvs: [kv] })), "STRING_TOO_LONG");
  });
});

describe("BAD_VALUE_TYPE", () => {
  it("rejects value type 13", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({ kvs: [{ key: "k", type: 13, write: (b) => b.u32(0) }] })), "BAD_VALUE_TYPE");
    expect(error.message).toContain('"k"');
  });
  it("rejects an array item type of 99", () => {
    expectGgufError(() => parseGguf(rawGguf({ kvs: [arrayKv("a", 99, 1)] })), "BAD_VALUE_TYPE");
  });
});

describe("NESTING_TOO_DEEP", () => {
  it("rejects arrays nested 17 deep (16 are accepted)", () => {
    const nestedKv = (depth: number): RawKv => ({
      key: "deep",
      type: GgufValueType.ARRAY,
      write: (b) => {
        for (let i = 1; i < depth; i++) b.u32(GgufValueType.ARRAY).u64(1);
        b.u32(GgufValueType.UINT8).u64(0);
      },
    });
    expect(() => parseGguf(rawGguf({ kvs: [nestedKv(16)] }))).not.toThrow();
    expectGgufError(() => parseGguf(rawGguf({ kvs: [nestedKv(17)] })), "NESTING_TOO_DEEP");
  });
});

describe("DUPLICATE_KEY", () => {
  it("rejects a key seen twice", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({ kvs: [kvU32("a", 1), kvString("a", "x")] })), "DUPLICATE_KEY");
    expect(error.message).toContain('"a"');
  });
});

describe("BAD_ALIGNMENT", () => {
  it.each([0, 3, 48])("rejects general.alignment = %i", (alignment) => {
    const error = expectGgufError(() => parseGguf(rawGguf({ kvs: [kvU32("general.alignment", alignment)] })), "BAD_ALIGNMENT");
    expect(error.message).toContain(String(alignment));
  });
  it("rejects general.alignment stored as an i32", () => {
    const kv: RawKv = { key: "general.alignment", type: GgufValueType.INT32, write: (b) => b.i32(32) };
    expectGgufError(() => parseGguf(rawGguf({ kvs: [kv] })), "BAD_ALIGNMENT");
  });
});

describe("UNKNOWN_TENSOR_TYPE", () => {
  it.each([4, 5, 31, 1000])("rejects ggml type %i", (type) => {
    const bytes = rawGguf({ tensors: [{ name: "w", dims: [32], type, offset: 0 }], nDataBytes: 1024 });
    const error = expectGgufError(() => parseGguf(bytes), "UNKNOWN_TENSOR_TYPE");
    expect(error.message).toContain(`type ${type}`);
  });
});

describe("TOO_MANY_DIMS", () => {
  it("rejects n_dims = 5", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 0, [1, 1, 1, 1, 1])], nDataBytes: 4 });
    expectGgufError(() => parseGguf(bytes), "TOO_MANY_DIMS");
  });
});

describe("BAD_DIM", () => {
  it("rejects a negative dimension", () => {
    const error = expectGgufError(() => parseGguf(rawGguf({ tensors: [f32Tensor("w", 0, [4, -1])], nDataBytes: 16 })), "BAD_DIM");
    expect(error.message).toContain("-1");
  });
  it("rejects a dimension beyond 2^53", () => {
    expectGgufError(() => parseGguf(rawGguf({ tensors: [f32Tensor("w", 0, [2n ** 60n])], nDataBytes: 16 })), "BAD_DIM");
  });
  it("rejects n_dims = 0", () => {
    expectGgufError(() => parseGguf(rawGguf({ tensors: [f32Tensor("w", 0, [])], nDataBytes: 16 })), "BAD_DIM");
  });
});

describe("DUPLICATE_TENSOR", () => {
  it("rejects a tensor name seen twice", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 0), f32Tensor("w", 32)], nDataBytes: 48 });
    expectGgufError(() => parseGguf(bytes), "DUPLICATE_TENSOR");
  });
});

describe("TENSOR_OUT_OF_BOUNDS", () => {
  it("rejects tensor bytes ending past the file", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 0, [8])], nDataBytes: 31 });
    const error = expectGgufError(() => parseGguf(bytes), "TENSOR_OUT_OF_BOUNDS");
    expect(error.message).toContain('"w"');
  });
  it("rejects an offset past the file", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 2 ** 40)], nDataBytes: 16 });
    expectGgufError(() => parseGguf(bytes), "TENSOR_OUT_OF_BOUNDS");
  });
});

describe("MISALIGNED_TENSOR", () => {
  it("rejects an offset that is not a multiple of the alignment", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("a", 0), f32Tensor("b", 16)], nDataBytes: 32 });
    const error = expectGgufError(() => parseGguf(bytes), "MISALIGNED_TENSOR");
    expect(error.message).toContain("16");
  });
});

describe("BAD_BLOCK_MULTIPLE", () => {
  it("rejects a Q4_0 row of 48 values (block size 32)", () => {
    const bytes = rawGguf({ tensors: [{ name: "q", dims: [48, 2], type: GgmlType.Q4_0, offset: 0 }], nDataBytes: 256 });
    const error = expectGgufError(() => parseGguf(bytes), "BAD_BLOCK_MULTIPLE");
    expect(error.message).toContain("48");
  });
});

describe("OVERFLOW", () => {
  it("rejects a tensor offset beyond 2^53", () => {
    expectGgufError(() => parseGguf(rawGguf({ tensors: [f32Tensor("w", 2n ** 60n)], nDataBytes: 16 })), "OVERFLOW");
  });
  it("rejects an element count beyond 2^53 even when each dim is fine", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 0, [2 ** 30, 2 ** 30, 2 ** 10])], nDataBytes: 16 });
    expectGgufError(() => parseGguf(bytes), "OVERFLOW");
  });
  it("rejects a byte count beyond 2^53", () => {
    const bytes = rawGguf({ tensors: [f32Tensor("w", 0, [2 ** 26, 2 ** 26])], nDataBytes: 16 });
    expectGgufError(() => parseGguf(bytes), "OVERFLOW");
  });
});
