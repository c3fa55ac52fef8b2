import { describe, expect, it } from "vitest";
import { createRng, Mt19937 } from "../../../src/engine/sampling/rng.js";
import { randomSeed } from "../../../src/engine/sampling/randomSeed.js";

describe("Mt19937", () => {
  it("matches std::mt19937 for the default seed 5489 (first and 10000th outputs)", () => {
    const rng = new Mt19937(5489);
    expect(rng.nextUint32()).toBe(3499211612);
    for (let i = 2; i < 10000; i++) {
      rng.nextUint32();
    }
    // the C++ standard requires the 10000th output of a default-constructed mt19937 to be 4123659995
    expect(rng.nextUint32()).toBe(4123659995);
  });

  it("nextFloat combines two outputs as libstdc++ generate_canonical<double, 53>", () => {
    const raw = new Mt19937(42);
    const low = raw.nextUint32();
    const high = raw.nextUint32();
    expect(new Mt19937(42).nextFloat()).toBe((low + high * 2 ** 32) / 2 ** 64);
  });

  it("nextFloat stays in [0, 1) and averages about 0.5", () => {
    const rng = createRng(7);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10000; i++) {
      const value = rng.nextFloat();
      min = Math.min(min, value);
      max = Math.max(max, value);
      sum += value;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(min).toBeLessThan(0.001);
    expect(max).toBeLessThan(1);
    expect(max).toBeGreaterThan(0.999);
    expect(sum / 10000).toBeCloseTo(0.5, 1);
  });

  it("same seed gives the same sequence, a different seed a different one", () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => rng.nextFloat());
    };
    expect(draw(123)).toEqual(draw(123));
    expect(draw(123)).not.toEqual(draw(124));
  });

  it("reduces seeds modulo 2^32 like the uint32_t seed in llama.cpp", () => {
    expect(createRng(2 ** 32 + 5).nextFloat()).toBe(createRng(5).nextFloat());
  });
});

describe("randomSeed", () => {
  it("returns a uint32 other than llama.cpp's LLAMA_DEFAULT_SEED", () => {
    for (let i = 0; i < 100; i++) {
      const seed = randomSeed();
      expect(Number.isInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
      expect(seed).toBeLessThan(0xffffffff);
    }
  });
});
