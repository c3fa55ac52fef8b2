import { describe, expect, it } from "vitest";
import { LayerstreamError } from "../../../src/engine/errors.js";
import { SamplerOptionsError } from "../../../src/engine/sampling/errors.js";
import { DEFAULT_SAMPLER_OPTIONS, resolveSamplerOptions, type SamplerOptions } from "../../../src/engine/sampling/options.js";
import { createRng } from "../../../src/engine/sampling/rng.js";
import { Sampler } from "../../../src/engine/sampling/sampler.js";

describe("sampler options", () => {
  it("defaults to llama.cpp's common_params_sampling values", () => {
    expect(resolveSamplerOptions()).toEqual({
      temperature: 0.8,
      topK: 40,
      topP: 0.95,
      minP: 0.05,
      repeatPenalty: 1.0,
      repeatLastN: 64,
      frequencyPenalty: 0,
      presencePenalty: 0,
    });
    expect(new Sampler({}, createRng(1)).options).toEqual(DEFAULT_SAMPLER_OPTIONS);
  });

  it("keeps given values and fills in the rest", () => {
    const options = resolveSamplerOptions({ temperature: 0, topK: 0 });
    expect(options.temperature).toBe(0);
    expect(options.topK).toBe(0);
    expect(options.topP).toBe(0.95);
  });

  it("accepts the edges of every range", () => {
    expect(() =>
      resolveSamplerOptions({ temperature: 0, topK: 0, topP: 1, minP: 1, repeatPenalty: 0.01, repeatLastN: -1, frequencyPenalty: -2, presencePenalty: 2 }),
    ).not.toThrow();
    expect(() => resolveSamplerOptions({ topP: 1e-6, minP: 0, repeatLastN: 0 })).not.toThrow();
  });

  const bad: [keyof SamplerOptions, number][] = [
    ["temperature", -0.1],
    ["temperature", Number.NaN],
    ["topK", -1],
    ["topK", 2.5],
    ["topP", 0],
    ["topP", 1.5],
    ["topP", -0.5],
    ["minP", -0.01],
    ["minP", 1.01],
    ["repeatPenalty", 0],
    ["repeatPenalty", -1],
    ["repeatLastN", -2],
    ["repeatLastN", 3.5],
    ["frequencyPenalty", Number.POSITIVE_INFINITY],
    ["presencePenalty", Number.NaN],
  ];
  for (const [option, value] of bad) {
    it(`rejects ${option} = ${value} with BAD_SAMPLER_OPTION`, () => {
      let caught: unknown;
      try {
        new Sampler({ [option]: value }, createRng(1));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SamplerOptionsError);
      expect(caught).toBeInstanceOf(LayerstreamError);
      const error = caught as SamplerOptionsError;
      expect(error.code).toBe("BAD_SAMPLER_OPTION");
      expect(error.option).toBe(option);
      expect(error.message).toContain(option);
      expect(error.message).toContain(String(value));
      expect(error.message).not.toContain("\n");
    });
  }
});
