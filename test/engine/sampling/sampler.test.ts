import { describe, expect, it } from "vitest";
import { SamplerInputError } from "../../../src/engine/sampling/errors.js";
import { createRng, type Rng } from "../../../src/engine/sampling/rng.js";
import { Sampler } from "../../../src/engine/sampling/sampler.js";

/** an Rng that counts how often it is asked for a number */
function countingRng(seed: number): Rng & { readonly calls: number } {
  const inner = createRng(seed);
  let calls = 0;
  return {
    nextFloat: () => {
      calls++;
      return inner.nextFloat();
    },
    get calls() {
      return calls;
    },
  };
}

function randomLogits(nVocab: number, seed: number, scale = 4): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: nVocab }, () => scale * (rng.nextFloat() + rng.nextFloat() - 1));
}

const NO_FILTERS = { temperature: 1, topK: 0, topP: 1, minP: 0 } as const;

describe("Sampler greedy (temperature 0)", () => {
  it("picks the argmax and the lowest id on ties, without drawing randomness", () => {
    const rng = countingRng(1);
    const sampler = new Sampler({ temperature: 0 }, rng);
    expect(sampler.sample(Float32Array.from([0.1, 2, -3, 1.9]), [])).toBe(1);
    expect(sampler.sample(Float32Array.from([1, 3, 2, 3, 3]), [])).toBe(1);
    expect(sampler.sample(Float32Array.from([-Infinity, -5, -5]), [])).toBe(1);
    expect(rng.calls).toBe(0);
  });

  it("takes the argmax of the penalized logits", () => {
    const sampler = new Sampler({ temperature: 0, repeatPenalty: 1.5 }, createRng(1));
    const logits = Float32Array.from([3, 2.5, 1]);
    expect(sampler.sample(logits, [])).toBe(0);
    expect(sampler.sample(logits, [0])).toBe(1); // 3 / 1.5 = 2 < 2.5
    expect(sampler.sample(logits, [0, 1, 1])).toBe(0); // 2 vs 2.5 / 1.5 ≈ 1.67
    const presence = new Sampler({ temperature: 0, presencePenalty: 0.6 }, createRng(1));
    expect(presence.sample(logits, [0])).toBe(1); // 2.4 < 2.5
  });
});

describe("Sampler draws", () => {
  const logits = randomLogits(100, 99);

  function draws(seed: number, count: number): number[] {
    const sampler = new Sampler({ temperature: 1.2, topK: 0, topP: 1, minP: 0 }, createRng(seed));
    return Array.from({ length: count }, () => sampler.sample(logits, []));
  }

  it("repeats the same 200 picks for the same seed and differs for another seed", () => {
    const first = draws(1234, 200);
    expect(draws(1234, 200)).toEqual(first);
    expect(draws(1235, 200)).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(10); // really sampling, not stuck on one token
  });

  it("draws one random number per sampled token", () => {
    const rng = countingRng(5);
    const sampler = new Sampler({}, rng);
    for (let i = 0; i < 25; i++) {
      sampler.sample(randomLogits(50, i, 1), []);
    }
    expect(rng.calls).toBe(25);
  });

  it("matches the probabilities of logits log([0.5, 0.3, 0.2]) within ±2% over 20000 draws", () => {
    const sampler = new Sampler(NO_FILTERS, createRng(20240101));
    const input = Float32Array.from([0.5, 0.3, 0.2].map(Math.log));
    const counts = [0, 0, 0];
    const nDraws = 20000;
    for (let i = 0; i < nDraws; i++) {
      counts[sampler.sample(input, [])]++;
    }
    expect(Math.abs(counts[0] / nDraws - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(counts[1] / nDraws - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(counts[2] / nDraws - 0.2)).toBeLessThan(0.02);
  });

  it("sharpens with a low temperature and flattens with a high one", () => {
    const input = Float32Array.from([0.5, 0.3, 0.2].map(Math.log));
    const shareOfBest = (temperature: number) => {
      const sampler = new Sampler({ ...NO_FILTERS, temperature }, createRng(77));
      let best = 0;
      for (let i = 0; i < 4000; i++) {
        best += sampler.sample(input, []) === 0 ? 1 : 0;
      }
      return best / 4000;
    };
    // p(best) = 0.5^(1/T) / sum: T=0.25 → ≈0.87, T=4 → ≈0.37
    expect(shareOfBest(0.25)).toBeGreaterThan(0.83);
    expect(shareOfBest(4)).toBeLessThan(0.41);
  });

  it("never picks a token removed by top-k / top-p / min-p", () => {
    const input = Float32Array.from([0.05, 0.5, 0.15, 0.3].map(Math.log));
    const seen = (options: object) => {
      const sampler = new Sampler({ ...NO_FILTERS, ...options }, createRng(3));
      const picked = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        picked.add(sampler.sample(input, []));
      }
      return [...picked].sort();
    };
    expect(seen({})).toEqual([0, 1, 2, 3]);
    expect(seen({ topK: 2 })).toEqual([1, 3]);
    expect(seen({ topP: 0.75 })).toEqual([1, 3]);
    expect(seen({ minP: 0.2 })).toEqual([1, 2, 3]);
  });

  it("leaves the caller's logits and history untouched", () => {
    const input = randomLogits(1000, 8);
    const inputCopy = input.slice();
    const history = [1, 2, 3, 3, 999, 5];
    const historyCopy = [...history];
    const sampler = new Sampler({ repeatPenalty: 1.3, frequencyPenalty: 0.2, presencePenalty: 0.1, temperature: 0.7 }, createRng(4));
    for (let i = 0; i < 5; i++) {
      sampler.sample(input, history);
    }
    expect(input).toEqual(inputCopy);
    expect(history).toEqual(historyCopy);
  });

  it("handles a change of vocabulary size between calls, and a vocabulary of one", () => {
    const sampler = new Sampler({}, createRng(4));
    expect(sampler.sample(randomLogits(10, 1), [])).toBeLessThan(10);
    expect(sampler.sample(randomLogits(3000, 1), [2999])).toBeLessThan(3000);
    expect(sampler.sample(Float32Array.from([0.3]), [0])).toBe(0);
  });

  it("rejects empty logits with a typed error", () => {
    const sampler = new Sampler({}, createRng(4));
    expect(() => sampler.sample(new Float32Array(0), [])).toThrow(SamplerInputError);
  });
});
