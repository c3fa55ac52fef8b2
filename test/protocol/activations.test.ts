import { describe, expect, it } from "vitest";
import { activationBytes, decodeActivations, encodeActivations } from "../../src/protocol/activations.js";
import { PayloadEncoding } from "../../src/protocol/header.js";

const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * (i % 7 === 0 ? 40 : 1));

describe("protocol-activations", () => {
  it("sizes: f32 4 bytes, f16 2 bytes, q8_0 34 bytes per 32 values (3.76× smaller than f32)", () => {
    expect(activationBytes(PayloadEncoding.F32, 2048)).toBe(8192);
    expect(activationBytes(PayloadEncoding.F16, 2048)).toBe(4096);
    expect(activationBytes(PayloadEncoding.Q8_0, 2048)).toBe(2176);
    expect(8192 / 2176).toBeCloseTo(3.76, 2);
    expect(() => activationBytes(PayloadEncoding.Q8_0, 33)).toThrow(/multiple of 32/);
  });

  it("f32 is exact", () => {
    expect(decodeActivations(encodeActivations(values, PayloadEncoding.F32), PayloadEncoding.F32, 64)).toEqual(values);
  });

  it("f16 is within half precision", () => {
    const back = decodeActivations(encodeActivations(values, PayloadEncoding.F16), PayloadEncoding.F16, 64);
    values.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7));
  });

  it("q8_0 golden bytes for 0..31, and error within half a step per block", () => {
    const ramp = Float32Array.from({ length: 32 }, (_, i) => i);
    const bytes = encodeActivations(ramp, PayloadEncoding.Q8_0);
    expect(bytes.length).toBe(34);
    expect(bytes[0] | (bytes[1] << 8)).toBe(0x33d0); // half(31/127), as ggml rounds it
    expect(Array.from(bytes.subarray(2, 6))).toEqual([0, 4, 8, 12]); // round(i · 127/31)
    expect(new Int8Array(bytes.buffer, 2 + 31, 1)[0]).toBe(127);
    const back = decodeActivations(encodeActivations(values, PayloadEncoding.Q8_0), PayloadEncoding.Q8_0, 64);
    for (let b = 0; b < 2; b++) {
      const amax = Math.max(...Array.from(values.subarray(b * 32, b * 32 + 32), Math.abs));
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j] - values[b * 32 + j])).toBeLessThanOrEqual((amax / 127) * 0.51 + amax * 2 ** -11);
    }
  });

  it("rejects payloads of the wrong size and encodings that carry no activations", () => {
    const bytes = encodeActivations(values, PayloadEncoding.Q8_0);
    expect(() => decodeActivations(bytes.subarray(1), PayloadEncoding.Q8_0, 64)).toThrow(/must be 68 bytes, got 67/);
    expect(() => decodeActivations(bytes, PayloadEncoding.MSGPACK, 64)).toThrow(/does not carry activations/);
  });
});
