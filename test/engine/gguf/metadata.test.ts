import { describe, expect, it } from "vitest";
import {
  architecture,
  getNumber,
  getString,
  getStringArray,
  hasKey,
  optionalArrayLength,
  optionalBool,
  optionalNumber,
  optionalNumberArray,
  optionalString,
  optionalStringArray,
} from "../../../src/engine/gguf/metadata.js";
import { parseGguf } from "../../../src/engine/gguf/reader.js";
import { GgufWriter } from "../../../src/engine/gguf/writer.js";
import { GgufValueType } from "../../../src/engine/gguf/types.js";
import { expectGgufError } from "../../helpers/ggufBytes.js";

const file = parseGguf(
  new GgufWriter()
    .setString("general.architecture", "qwen2")
    .setUint8("n.u8", 200)
    .setInt16("n.i16", -7)
    .setUint32("n.u32", 4000000000)
    .setFloat32("n.f32", 0.5)
    .setFloat64("n.f64", 0.25)
    .setUint64("n.u64", 123456789012n)
    .setInt64("n.i64", -5n)
    .setUint64("n.u64.huge", 2n ** 60n)
    .setBool("b", true)
    .setArray("tokens", GgufValueType.STRING, ["a", "b"])
    .setArray("scores", GgufValueType.FLOAT32, [0.5, -1])
    .setArray("ids64", GgufValueType.INT64, [1n, -2n])
    .setArray("types", GgufValueType.INT32, [1, 2, 3])
    .toBytes(),
);

describe("metadata accessors", () => {
  it("read strings, bools and the architecture", () => {
    expect(getString(file, "general.architecture")).toBe("qwen2");
    expect(architecture(file)).toBe("qwen2");
    expect(optionalBool(file, "b")).toBe(true);
    expect(hasKey(file, "b")).toBe(true);
    expect(hasKey(file, "nope")).toBe(false);
  });

  it("read numbers of every width, converting safe 64-bit integers", () => {
    expect(getNumber(file, "n.u8")).toBe(200);
    expect(getNumber(file, "n.i16")).toBe(-7);
    expect(getNumber(file, "n.u32")).toBe(4000000000);
    expect(getNumber(file, "n.f32")).toBe(0.5);
    expect(getNumber(file, "n.f64")).toBe(0.25);
    expect(getNumber(file, "n.u64")).toBe(123456789012);
    expect(getNumber(file, "n.i64")).toBe(-5);
    expectGgufError(() => getNumber(file, "n.u64.huge"), "OVERFLOW");
  });

  it("read arrays as fresh copies", () => {
    const tokens = getStringArray(file, "tokens");
    expect(tokens).toEqual(["a", "b"]);
    tokens.push("c");
    expect(getStringArray(file, "tokens")).toEqual(["a", "b"]);
    expect(optionalNumberArray(file, "scores")).toEqual([0.5, -1]);
    expect(optionalNumberArray(file, "ids64")).toEqual([1, -2]);
    expect(optionalNumberArray(file, "types")).toEqual([1, 2, 3]);
    expect(optionalArrayLength(file, "tokens")).toBe(2);
  });

  it("throw MISSING_KEY for get* and return undefined for optional*", () => {
    const error = expectGgufError(() => getString(file, "general.name"), "MISSING_KEY");
    expect(error.message).toContain('"general.name"');
    expectGgufError(() => getNumber(file, "x"), "MISSING_KEY");
    expectGgufError(() => getStringArray(file, "x"), "MISSING_KEY");
    expect(optionalString(file, "x")).toBeUndefined();
    expect(optionalNumber(file, "x")).toBeUndefined();
    expect(optionalBool(file, "x")).toBeUndefined();
    expect(optionalStringArray(file, "x")).toBeUndefined();
    expect(optionalNumberArray(file, "x")).toBeUndefined();
    expect(optionalArrayLength(file, "x")).toBeUndefined();
  });

  it("throw WRONG_TYPE naming the actual and expected types (optional* too)", () => {
    const error = expectGgufError(() => getNumber(file, "general.architecture"), "WRONG_TYPE");
    expect(error.message).toBe('metadata "general.architecture" is a string, expected a number');
    expectGgufError(() => getString(file, "n.u8"), "WRONG_TYPE");
    expectGgufError(() => optionalBool(file, "n.u8"), "WRONG_TYPE");
    expectGgufError(() => optionalString(file, "b"), "WRONG_TYPE");
    expectGgufError(() => getStringArray(file, "scores"), "WRONG_TYPE");
    expect(expectGgufError(() => optionalNumberArray(file, "tokens"), "WRONG_TYPE").message).toContain("an array of string");
    expectGgufError(() => optionalNumberArray(file, "n.u8"), "WRONG_TYPE");
    expectGgufError(() => optionalArrayLength(file, "b"), "WRONG_TYPE");
  });
});
