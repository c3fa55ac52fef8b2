import { describe, expect, it } from "vitest";
import { llama3RopeFactors } from "../../../src/engine/model/llama3Rope.js";

/** Llama 3.1 8B's config: rope_theta 500000, head_dim 128, rope_scaling {factor 8, low 1, high 4, original 8192}. */
const LLAMA31 = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 8192 } as const;

describe("llama3RopeFactors (the converter's rope_freqs derivation)", () => {
  const factors = llama3RopeFactors(LLAMA31, 128, 500000);

  it("keeps short wavelengths, divides long ones by `factor`, and blends monotonically in between", () => {
    expect(factors.length).toBe(64);
    expect(factors[0]).toBe(1);
    expect(factors[63]).toBe(8);
    for (let i = 1; i < factors.length; i++) expect(factors[i]).toBeGreaterThanOrEqual(factors[i - 1]);
    const blended = [...factors].filter((f) => f > 1 && f < 8);
    expect(blended.length).toBeGreaterThan(0);
  });

  it("puts each pair in the band its wavelength 2π·base^(2i/nRot) falls in", () => {
    for (let i = 0; i < 64; i++) {
      const wavelen = 2 * Math.PI * Math.pow(500000, (2 * i) / 128);
      if (wavelen < 8192 / 4 * 0.999) expect(factors[i]).toBe(1);
      else if (wavelen > 8192 * 1.001) expect(factors[i]).toBe(8);
      else {
        const smooth = (8192 / wavelen - 1) / 3;
        expect(factors[i]).toBeCloseTo(1 / ((1 - smooth) / 8 + smooth), 4);
      }
    }
  });
});
