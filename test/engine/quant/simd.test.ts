/** The f32 SIMD arithmetic emulation: fused multiply-add with one rounding, horizontal sum orders. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expfAvx512, fmaF32, hsum8, reduceAdd16, siluAvx512 } from "../../../src/engine/quant/simd.js";
import { decodeBase64F32 } from "./helpers.js";

const fr = Math.fround;

describe("quant-simd", () => {
  it("fmaF32 rounds a·b + c once, also where the double sum lands exactly on an f32 midpoint", () => {
    // a·b = 2^-24·(1 − 2^-46) exactly; c = 1 + 2^-23. The exact sum is just below the midpoint
    // 1 + 3·2^-24, so one rounding gives 1 + 2^-23; the double sum is the midpoint itself and
    // rounding it again (ties to even) would give 1 + 2^-22.
    const a = fr(2 ** -24 * (1 + 2 ** -23));
    const b = fr(1 - 2 ** -23);
    const c = fr(1 + 2 ** -23);
    expect(a * b + c).toBe(1 + 3 * 2 ** -24);
    expect(fr(a * b + c)).toBe(1 + 2 ** -22);
    expect(fmaF32(a, b, c)).toBe(1 + 2 ** -23);
    // mirrored: just above the midpoint 1 + 2^-24 (ties to even would give 1)
    const a2 = fr(2 ** -24 * (1 + 2 ** -23));
    const b2 = fr(1 + 2 ** -23);
    expect(fmaF32(a2, b2, 1)).toBe(1 + 2 ** -23);
    // an exact tie stays a tie (to even), with either sign
    expect(fmaF32(2 ** -24, 1, 1)).toBe(1);
    expect(fmaF32(-(2 ** -24), 1, -1)).toBe(-1);
    expect(fmaF32(3 * 2 ** -24, 1, 1)).toBe(1 + 2 ** -22);
  });

  it("fmaF32 equals fr(a·b + c) whenever the double sum is exact", () => {
    const values = [0, 1, -1, 0.1, -2.5, 1e-3, 3.75, 1e6, -7e-5, 123.456].map(fr);
    for (const a of values) for (const b of values) for (const c of values) expect(fmaF32(a, b, c)).toBe(fr(a * b + c));
  });

  it("hsum8 adds (x4+x0) + (x6+x2) + ((x5+x1) + (x7+x3)) in f32", () => {
    const big = 2 ** 24;
    // x0 + x4 = 2^24 + 1 rounds to 2^24; a left-to-right sum would keep both ones (x1 = 1)
    expect(hsum8(Float64Array.from([big, 1, 0, 0, 1, 0, 0, 0]), 0)).toBe(fr(big + 1));
    expect(hsum8(Float64Array.from([0, big, 0, 1, 0, 1, 0, 1]), 0)).toBe(big + 2);
    expect(hsum8(Float64Array.from([9, 9, 1, 2, 3, 4, 5, 6, 7, 8]), 2)).toBe(36);
  });

  it("reduceAdd16 adds halves: lanes i and i+8, then i and i+4, then (0+2) + (1+3)", () => {
    const big = 2 ** 24;
    const x = new Float64Array(16);
    x[0] = big;
    x[8] = 1; // added to x0 first: lost
    x[1] = 1;
    x[9] = 1; // 2, then added to big in the last step: kept
    expect(reduceAdd16(x, 0)).toBe(big + 2);
  });

  it("siluAvx512 (and so expfAvx512) equals llama.cpp's ggml_v_silu bit for bit (fixtures/make-simd-golden.py)", () => {
    const golden = JSON.parse(readFileSync(new URL("./fixtures/simd-golden.json", import.meta.url), "utf8")) as { x: string; silu: string };
    const x = decodeBase64F32(golden.x);
    const silu = decodeBase64F32(golden.silu);
    const mismatches: string[] = [];
    for (let i = 0; i < x.length; i++) if (!Object.is(siluAvx512(x[i]), silu[i])) mismatches.push(`silu(${x[i]}) = ${siluAvx512(x[i])} ≠ ${silu[i]}`);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(x.length).toBeGreaterThan(8000);
  });

  it("expfAvx512: e^0 = 1, e^-∞ = 0, saturates beyond ±192·ln 2 and stays within 2 ulp of e^x", () => {
    expect(expfAvx512(0)).toBe(1);
    expect(expfAvx512(-Infinity)).toBe(0);
    expect(expfAvx512(-200)).toBe(0);
    expect(expfAvx512(200)).toBe(Infinity);
    for (let x = -80; x <= 80; x += 0.37) {
      const e = expfAvx512(fr(x));
      const exact = Math.exp(fr(x));
      expect(Math.abs(e - exact)).toBeLessThanOrEqual(2 * 2 ** (Math.floor(Math.log2(exact)) - 23));
    }
  });
});
