/**
 * Half and bfloat16 conversions: edge cases worked by hand, and bit-exact agreement with ggml's
 * ggml_fp32_to_fp16_row / ggml_fp32_to_bf16_row_ref / ggml_fp16_to_fp32_row (fixture from the
 * libggml that ships with node-llama-cpp, see test/engine/quant/fixtures/make-ggml-golden.py).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ArrayToF16, f32ToBf16, f32ToF16, roundToF16 } from "../../../src/engine/ggml/fp16.js";
import { loadGgmlGolden } from "../quant/helpers.js";

const bitsToF32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

describe("ggml-fp16", () => {
  it("decodes zeros, subnormals, normals, the largest finite, infinities and NaN", () => {
    expect(Object.is(f16ToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x3555)).toBe(Math.fround(0.333251953125));
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x7c01)).toBeNaN();
  });

  it("rounds to nearest, ties to even, in normals and subnormals", () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie, 0x3C00 is even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, 0x3C02 is even
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal units
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // largest subnormal + half a unit → smallest normal
    expect(f32ToF16(1e-10)).toBe(0x0000);
    expect(f32ToF16(-1e-10)).toBe(0x8000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(2048.5)).toBe(f32ToF16(2048)); // ulp is 2 at 2048
    expect(f32ToF16(2049)).toBe(0x6800); // tie → 2048 (even)
    expect(f32ToF16(2051)).toBe(0x6802); // tie → 2052 (even)
  });

  it("overflows at 65520 (half-way to 2^16 rounds up), keeps 65504 and infinities, quiets NaN", () => {
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519.99)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(-65520)).toBe(0xfc00);
    expect(f32ToF16(1e10)).toBe(0x7c00);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(NaN)).toBe(0x7e00);
    expect(f32ToF16(bitsToF32(0x7f800001))).toBe(0x7e00); // signalling NaN comes out quiet
    expect(f32ToF16(bitsToF32(0xffc00000))).toBe(0xfe00);
    expect(roundToF16(65519)).toBe(65504);
    expect(roundToF16(0.1)).toBe(f16ToF32(0x2e66));
  });

  it("f32ArrayToF16 gives f32ToF16 of every value: normals, ties, subnormals, overflow, NaN", () => {
    const values = [0, -0, 1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -14, 2 ** -14 - 2 ** -30, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2049, 65504, 65519.99, 65520, -1e10, Infinity, NaN, bitsToF32(0x7f800001), 0.1, -123.456];
    let seed = 7;
    for (let i = 0; i < 4000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      values.push(bitsToF32(seed));
    }
    const src = new Float32Array(values.length + 3).subarray(3); // at a byte offset, as cache stores pass
    src.set(values);
    const dst = new Uint16Array(src.length + 5);
    f32ArrayToF16(src, dst, 5);
    const mismatches = [...src].flatMap((value, i) => (dst[5 + i] === f32ToF16(value) ? [] : [`${value}: ${dst[5 + i]} vs ${f32ToF16(value)}`]));
    expect(mismatches).toEqual([]);
    expect([...dst.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
  });

  it("bf16: truncates to the top 16 bits with round to nearest even; NaN stays quiet NaN", () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even
    expect(f32ToBf16(-2.5)).toBe(0xc020);
    expect(f32ToBf16(bitsToF32(0x7f7fffff))).toBe(0x7f80); // largest f32 rounds to inf
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(bitsToF32(0x7f800001))).toBe(0x7fc0);
    expect(f32ToBf16(bitsToF32(0xff800001))).toBe(0xffc0);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // bf16 keeps f32 subnormals
  });

  describe("agrees with ggml bit for bit", () => {
    const golden = loadGgmlGolden().fp16;

    it(`f32 → f16 and f32 → bf16 on ${golden.f32Bits.length} bit patterns (specials, random, half range)`, () => {
      const mismatches: string[] = [];
      golden.f32Bits.forEach((bits, i) => {
        const value = bitsToF32(bits);
        if (f32ToF16(value) !== golden.f16Bits[i]) mismatches.push(`f16 of 0x${bits.toString(16)}: ${f32ToF16(value)} vs ${golden.f16Bits[i]}`);
        if (f32ToBf16(value) !== golden.bf16Bits[i]) mismatches.push(`bf16 of 0x${bits.toString(16)}: ${f32ToBf16(value)} vs ${golden.bf16Bits[i]}`);
      });
      expect(mismatches).toEqual([]);
    });

    it("f16 → f32 for all 65536 halves (NaNs compared as NaN)", () => {
      const all = new Float32Array(65536);
      for (let h = 0; h < 65536; h++) all[h] = f16ToF32(h);
      const bits = new Uint32Array(all.buffer);
      for (let h = 0; h < 65536; h++) if (Number.isNaN(all[h])) bits[h] = 0x7fc00000;
      expect(createHash("sha256").update(new Uint8Array(all.buffer)).digest("hex")).toBe(golden.halfToF32Sha256);
    });
  });
});
