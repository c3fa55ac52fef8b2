/**
 * Dequantization of hand-built blocks: each block layout is written out byte by byte here
 * (independently of the kernels) with known scales and codes, and the expected floats are worked
 * out from ggml-common.h's definition of the block.
 */
import { describe, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { weightKernel } from "../../../src/engine/quant/table.js";
import { dequantizeRows } from "../../../src/engine/quant/matmul.js";

/** Half bit patterns of a few exact values. */
const HALF = { "0.125": 0x3000, "0.25": 0x3400, "0.5": 0x3800, "1": 0x3c00, "2": 0x4000, "-1": 0xbc00 } as const;

function putU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = value >>> 8;
}

function putU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, value >>> 0, true);
}

/** Dequantize `block` placed at an odd byte offset into the middle of a larger output array. */
function decode(type: GgmlType, block: Uint8Array, nValues: number): Float32Array {
  const padded = new Uint8Array(block.length + 5);
  padded.set(block, 5);
  const out = new Float32Array(nValues + 3).fill(NaN);
  weightKernel(type).dequantizeRow(padded, 5, out, 2, nValues);
  expect(Number.isNaN(out[0]) && Number.isNaN(out[1]) && Number.isNaN(out[nValues + 2])).toBe(true); // nothing written outside
  return out.subarray(2, 2 + nValues);
}

function range(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

describe("quant-dequantize hand-built blocks", () => {
  it("F32 copies little-endian floats", () => {
    const block = new Uint8Array(12);
    const dv = new DataView(block.buffer);
    [1.5, -2, 3.25e-5].forEach((v, i) => dv.setFloat32(4 * i, v, true));
    expect(Array.from(decode(GgmlType.F32, block, 3))).toEqual([1.5, -2, Math.fround(3.25e-5)]);
  });

  it("F16 decodes halves, including the largest finite and the smallest subnormal", () => {
    const block = new Uint8Array(8);
    [0x3c00, 0xc000, 0x7bff, 0x0001].forEach((h, i) => putU16(block, 2 * i, h));
    expect(Array.from(decode(GgmlType.F16, block, 4))).toEqual([1, -2, 65504, 2 ** -24]);
  });

  it("BF16 decodes the top half of an f32", () => {
    const block = new Uint8Array(6);
    [0x3f80, 0xc040, 0x4049].forEach((h, i) => putU16(block, 2 * i, h));
    expect(Array.from(decode(GgmlType.BF16, block, 3))).toEqual([1, -3, 3.140625]);
  });

  it("Q4_0: (nibble - 8) * d, low nibbles first", () => {
    const block = new Uint8Array(18);
    putU16(block, 0, HALF["0.5"]);
    for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
    const expected = [...range(16, (j) => (j - 8) * 0.5), ...range(16, (j) => (15 - j - 8) * 0.5)];
    expect(Array.from(decode(GgmlType.Q4_0, block, 32))).toEqual(expected);
  });

  it("Q4_1: nibble * d + m", () => {
    const block = new Uint8Array(20);
    putU16(block, 0, HALF["0.25"]);
    putU16(block, 2, HALF["-1"]);
    for (let j = 0; j < 16; j++) block[4 + j] = j | ((15 - j) << 4);
    const expected = [...range(16, (j) => j * 0.25 - 1), ...range(16, (j) => (15 - j) * 0.25 - 1)];
    expect(Array.from(decode(GgmlType.Q4_1, block, 32))).toEqual(expected);
  });

  it("Q5_0: (nibble | qh bit << 4) - 16, times d", () => {
    const block = new Uint8Array(22);
    putU16(block, 0, HALF["1"]);
    putU32(block, 2, 0xffff0005); // high bit set for values 0, 2 and 16..31
    for (let j = 0; j < 16; j++) block[6 + j] = j | (j << 4);
    const expected = [
      ...range(16, (j) => (j | (j === 0 || j === 2 ? 16 : 0)) - 16),
      ...range(16, (j) => (j | 16) - 16),
    ];
    expect(Array.from(decode(GgmlType.Q5_0, block, 32))).toEqual(expected);
  });

  it("Q5_1: (nibble | qh bit << 4) * d + m", () => {
    const block = new Uint8Array(24);
    putU16(block, 0, HALF["2"]);
    putU16(block, 2, HALF["0.5"]);
    putU32(block, 4, 0x8000ffff); // high bit set for values 0..15 and 31
    for (let j = 0; j < 16; j++) block[8 + j] = (15 - j) | (j << 4);
    const expected = [...range(16, (j) => ((15 - j) | 16) * 2 + 0.5), ...range(16, (j) => (j | (j === 15 ? 16 : 0)) * 2 + 0.5)];
    expect(Array.from(decode(GgmlType.Q5_1, block, 32))).toEqual(expected);
  });

  it("Q8_0: int8 * d", () => {
    const block = new Uint8Array(34);
    putU16(block, 0, HALF["0.125"]);
    const codes = range(32, (j) => (j * 9) % 256).map((v) => (v > 127 ? v - 256 : v));
    codes[31] = -128;
    codes.forEach((q, j) => (block[2 + j] = q & 0xff));
    expect(Array.from(decode(GgmlType.Q8_0, block, 32))).toEqual(codes.map((q) => q * 0.125));
  });

  describe("Q4_K", () => {
    // 6-bit scales and mins of the 8 sub-blocks, chosen to exercise the high bits of the packing
    const SCALES = [1, 20, 33, 63, 17, 48, 5, 60];
    const MINS = [0, 63, 16, 31, 47, 2, 50, 9];

    /** ggml-common.h: bytes 0..3 hold scale j (6 bits) for j < 4, bytes 4..7 min j; sub-blocks 4..7
     *  keep their low 4 bits in bytes 8..11 (scale low nibble, min high nibble) and their top 2 bits in
     *  the top bits of bytes j-4 (scale) and j (min). */
    function packScales(): Uint8Array {
      const s = new Uint8Array(12);
      for (let j = 0; j < 4; j++) {
        s[j] = SCALES[j] | ((SCALES[j + 4] >> 4) << 6);
        s[j + 4] = MINS[j] | ((MINS[j + 4] >> 4) << 6);
        s[j + 8] = (SCALES[j + 4] & 0x0f) | ((MINS[j + 4] & 0x0f) << 4);
      }
      return s;
    }

    it("value = d*scale*q - dmin*min, sub-block 2k in the low nibbles of qs[32k..], 2k+1 in the high", () => {
      const block = new Uint8Array(144);
      putU16(block, 0, HALF["1"]);
      putU16(block, 2, HALF["0.5"]);
      block.set(packScales(), 4);
      const code = (sub: number, l: number) => (l + 3 * sub) % 16;
      for (let k = 0; k < 4; k++) {
        for (let l = 0; l < 32; l++) block[16 + 32 * k + l] = code(2 * k, l) | (code(2 * k + 1, l) << 4);
      }
      const expected = range(256, (i) => {
        const sub = i >> 5;
        return SCALES[sub] * code(sub, i & 31) - 0.5 * MINS[sub];
      });
      expect(Array.from(decode(GgmlType.Q4_K, block, 256))).toEqual(expected);
    });
  });

  it("Q6_K: d*scale*(q6 - 32) with 4 low bits in ql and 2 high bits in qh", () => {
    const block = new Uint8Array(210);
    const scales = [-3, 5, 127, -128, 1, 2, 3, 4, -5, -6, -7, -8, 9, 10, 11, 64];
    const q6 = (i: number) => (i * 7 + 3) % 64;
    for (let i = 0; i < 256; i++) {
      const half = i >> 7;
      const s = (i >> 5) & 3; // which quarter of the half
      const l = i & 31;
      const qlIndex = 64 * half + l + 32 * (s & 1);
      block[qlIndex] |= (q6(i) & 0x0f) << (s >= 2 ? 4 : 0);
      block[128 + 32 * half + l] |= (q6(i) >> 4) << (2 * s);
    }
    scales.forEach((sc, j) => (block[192 + j] = sc & 0xff));
    putU16(block, 208, HALF["0.25"]);
    const expected = range(256, (i) => 0.25 * scales[i >> 4] * (q6(i) - 32));
    expect(Array.from(decode(GgmlType.Q6_K, block, 256))).toEqual(expected);
  });

  it("dequantizeRows decodes one row of a multi-row tensor (embedding lookup)", () => {
    const nCols = 64;
    const tensor = new Uint8Array(3 * 2 * 34); // 3 rows of Q8_0, 2 blocks each
    for (let row = 0; row < 3; row++) {
      for (let b = 0; b < 2; b++) {
        const block = (row * 2 + b) * 34;
        putU16(tensor, block, HALF["1"]);
        for (let j = 0; j < 32; j++) tensor[block + 2 + j] = (row * 10 + b) & 0xff;
      }
    }
    const out = new Float32Array(nCols);
    dequantizeRows(GgmlType.Q8_0, tensor, 2 * 68, out, nCols);
    expect(Array.from(out)).toEqual([...range(32, () => 20), ...range(32, () => 21)]);
  });

  it("rejects rows that are not whole blocks and rows outside the buffer", () => {
    const kernel = weightKernel(GgmlType.Q4_0);
    expect(() => kernel.dequantizeRow(new Uint8Array(36), 0, new Float32Array(48), 0, 48)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => kernel.dequantizeRow(new Uint8Array(36), 1, new Float32Array(64), 0, 64)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
    expect(() => kernel.dequantizeRow(new Uint8Array(36), 0, new Float32Array(63), 0, 64)).toThrow(
      expect.objectContaining({ code: "BAD_TENSOR_SHAPE" }),
    );
  });
});
