/** Activation quantizers (ggml `from_float` of each vec_dot_type): golden bytes for known vectors. */
import { describe, expect, it } from "vitest";
import { f16ToF32, f32ToF16 } from "../../../src/engine/ggml/fp16.js";
import { GgmlType, rowBytes } from "../../../src/engine/ggml/types.js";
import { activationQuantizer, weightKernel } from "../../../src/engine/quant/table.js";

function encode(type: GgmlType, values: number[]): Uint8Array {
  const x = Float32Array.from(values);
  const bytes = new Uint8Array(rowBytes(type, x.length));
  activationQuantizer(type).quantizeRow(x, 0, bytes, 0, x.length);
  return bytes;
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const i8s = (b: Uint8Array, o: number, n: number) => Array.from(new Int8Array(b.buffer, b.byteOffset + o, n));
const i16 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getInt16(o, true);
const f32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getFloat32(o, true);

describe("quant-activation", () => {
  it("Q8_0 golden bytes for [0..31]: d = 31/127 as half, qs = round(i*127/31)", () => {
    const bytes = encode(GgmlType.Q8_0, Array.from({ length: 32 }, (_, i) => i));
    expect(bytes.length).toBe(34);
    expect(u16(bytes, 0)).toBe(f32ToF16(31 / 127));
    expect(u16(bytes, 0)).toBe(0x33d0); // 0.244140625, the half nearest to 0.2440945
    expect(i8s(bytes, 2, 32)).toEqual(Array.from({ length: 32 }, (_, i) => Math.round((i * 127) / 31)));
  });

  it("Q8_0 activations round ties to even, as llama.cpp's x86 SIMD quantize_row_q8_0 does", () => {
    // amax 127 → d = 1, id = 127/127 = 1: the scaled values are the inputs themselves
    const values = [127, -2.5, 2.5, -0.5, 0.5, 1.5, -1.5, -126.5, ...Array(24).fill(0)];
    const bytes = encode(GgmlType.Q8_0, values);
    expect(f16ToF32(u16(bytes, 0))).toBe(1);
    expect(i8s(bytes, 2, 8)).toEqual([127, -2, 2, 0, 0, 2, -2, -126]);
  });

  it("Q8_0 weights round ties away from zero (C roundf, quantize_row_q8_0_ref), also for negative values", () => {
    const values = new Float32Array([127, -2.5, 2.5, -0.5, 0.5, 1.5, -1.5, -126.5, ...Array(24).fill(0)]);
    const bytes = new Uint8Array(34);
    weightKernel(GgmlType.Q8_0).quantizeRow(values, 0, bytes, 0, 32);
    expect(i8s(bytes, 2, 8)).toEqual([127, -3, 3, -1, 1, 2, -2, -127]);
  });

  it("Q8_0 of an all-zero block is d = 0 and zero codes", () => {
    expect(Array.from(encode(GgmlType.Q8_0, Array(32).fill(0)))).toEqual(Array(34).fill(0));
  });

  it("Q8_1 stores d, s = d*sum(qs) as half, then the codes", () => {
    const values = Array.from({ length: 32 }, (_, i) => (i % 2 ? -i : i) * 0.25);
    const bytes = encode(GgmlType.Q8_1, values);
    const q8_0 = encode(GgmlType.Q8_0, values);
    expect(bytes.length).toBe(36);
    expect(u16(bytes, 0)).toBe(u16(q8_0, 0));
    const codes = i8s(bytes, 4, 32);
    expect(codes).toEqual(i8s(q8_0, 2, 32));
    const sum = codes.reduce((a, b) => a + b, 0);
    const d = Math.fround(7.75 / 127); // amax = 31*0.25, d before rounding to half
    expect(u16(bytes, 2)).toBe(f32ToF16(Math.fround(sum * d)));
  });

  it("Q8_K scales by the signed extreme: iscale = -127/max, nearest-even codes, f32 d = 1/iscale, bsums per 16", () => {
    // max = -8 → iscale = 15.875 (exact), d = 1/15.875
    const values = new Array(256).fill(0);
    values[0] = -8; // → -127
    values[1] = 4; // 63.5 → 64 (ties to even)
    values[2] = 4.0625; // 64.49 → 64
    values[3] = 8; // 127 (same magnitude as max, not larger)
    values[4] = -0.0944; // -1.4986 → -1
    values[17] = 2.5; // 39.6875 → 40
    values[255] = -3; // -47.625 → -48
    const bytes = encode(GgmlType.Q8_K, values);
    expect(bytes.length).toBe(292);
    expect(f32(bytes, 0)).toBe(Math.fround(1 / 15.875));
    const qs = i8s(bytes, 4, 256);
    expect(qs.slice(0, 5)).toEqual([-127, 64, 64, 127, -1]);
    expect(qs[17]).toBe(40);
    expect(qs[255]).toBe(-48);
    expect(qs.filter((_, i) => ![0, 1, 2, 3, 4, 17, 255].includes(i)).every((q) => q === 0)).toBe(true);
    const bsums = Array.from({ length: 16 }, (_, g) => i16(bytes, 260 + 2 * g));
    expect(bsums).toEqual(Array.from({ length: 16 }, (_, g) => qs.slice(16 * g, 16 * g + 16).reduce((a, b) => a + b, 0)));
    expect(bsums[0]).toBe(-127 + 64 + 64 + 127 - 1);
  });

  it("Q8_K with a positive extreme maps it to -127 and d is negative", () => {
    const values = new Array(256).fill(0);
    values[5] = 10;
    values[6] = -5;
    const bytes = encode(GgmlType.Q8_K, values);
    expect(f32(bytes, 0)).toBeLessThan(0);
    expect(i8s(bytes, 4 + 5, 2)).toEqual([-127, 64]); // -12.7 * -5 = 63.5 in f32 → 64
  });

  it("F16 and BF16 activations are the values rounded to nearest even", () => {
    const f16 = encode(GgmlType.F16, [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000]);
    expect([0, 2, 4, 6].map((o) => u16(f16, o))).toEqual([0x3c00, 0x3c00, 0x3c02, 0x7c00]);
    const bf16 = encode(GgmlType.BF16, [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    expect([0, 2, 4].map((o) => u16(bf16, o))).toEqual([0x3f80, 0x3f80, 0x3f82]);
  });

  it("F32 activations are the raw little-endian floats", () => {
    const bytes = encode(GgmlType.F32, [1.5, -0.25]);
    expect([f32(bytes, 0), f32(bytes, 4)]).toEqual([1.5, -0.25]);
  });
});
