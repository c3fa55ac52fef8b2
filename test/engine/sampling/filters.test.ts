import { describe, expect, it } from "vitest";
import { CandidateList } from "../../../src/engine/sampling/candidates.js";
import {
  applyMinP,
  applyPenalties,
  applyTemperature,
  applyTopK,
  applyTopP,
  sampleDistribution,
  type PenaltySettings,
} from "../../../src/engine/sampling/filters.js";
import { createRng, type Rng } from "../../../src/engine/sampling/rng.js";

function listOf(logits: number[]): CandidateList {
  const list = new CandidateList(logits.length);
  list.load(Float32Array.from(logits));
  return list;
}

function liveIds(list: CandidateList): number[] {
  return Array.from(list.ids.subarray(0, list.size));
}

/** an Rng that replays fixed values, to aim a draw at a known point of the distribution */
function fixedRng(...values: number[]): Rng {
  let next = 0;
  return { nextFloat: () => values[next++] };
}

/** probabilities 0.05, 0.5, 0.15, 0.3 for ids 0..3 */
const PROBABILITIES = [0.05, 0.5, 0.15, 0.3];
const LOG_PROBABILITIES = PROBABILITIES.map(Math.log);

describe("top-k", () => {
  it("keeps exactly k candidates, best first, lower id first on ties", () => {
    const list = listOf([1, 5, 3, 5, 2, 4]);
    applyTopK(list, 3);
    expect(liveIds(list)).toEqual([1, 3, 5]);
    expect(list.sorted).toBe(true);
  });

  it("keeps (and sorts) everything when k >= the candidate count; 0 is off", () => {
    const list = listOf([1, 5, 3]);
    applyTopK(list, 10);
    expect(liveIds(list)).toEqual([1, 2, 0]);
    const off = listOf([1, 5, 3]);
    applyTopK(off, 0);
    expect(liveIds(off)).toEqual([0, 1, 2]);
    expect(off.sorted).toBe(false);
  });

  it("agrees with a full sort on a large vocabulary with many ties", () => {
    const rng = createRng(3);
    const logits = Array.from({ length: 20000 }, () => Math.round(rng.nextFloat() * 400) / 4);
    for (const k of [1, 40, 1000, 19999]) {
      const list = listOf(logits);
      applyTopK(list, k);
      const expected = logits
        .map((logit, id) => ({ logit, id }))
        .sort((a, b) => b.logit - a.logit || a.id - b.id)
        .slice(0, k)
        .map((c) => c.id);
      expect(liveIds(list)).toEqual(expected);
    }
  });
});

describe("top-p", () => {
  it("keeps the minimal nucleus reaching p", () => {
    const cases: [number, number[]][] = [
      [0.4, [1]],
      [0.75, [1, 3]], // 0.5 < 0.75 <= 0.8
      [0.85, [1, 3, 2]], // 0.8 < 0.85 <= 0.95
      [0.97, [1, 3, 2, 0]],
    ];
    for (const [p, expected] of cases) {
      const list = listOf(LOG_PROBABILITIES);
      applyTopP(list, p);
      expect(liveIds(list), `p = ${p}`).toEqual(expected);
    }
  });

  it("stops as soon as the sum reaches p exactly (>=, like llama.cpp)", () => {
    const list = listOf([0, 0, 0, 0]); // 0.25 each, exactly
    applyTopP(list, 0.5);
    expect(liveIds(list)).toEqual([0, 1]);
  });

  it("is off at p = 1", () => {
    const list = listOf(LOG_PROBABILITIES);
    applyTopP(list, 1);
    expect(liveIds(list)).toEqual([0, 1, 2, 3]);
  });

  it("computes the probabilities over the current candidates only (after top-k)", () => {
    // after top-2 the survivors 0.5 and 0.3 renormalize to 0.625 and 0.375
    const list = listOf(LOG_PROBABILITIES);
    applyTopK(list, 2);
    applyTopP(list, 0.6);
    expect(liveIds(list)).toEqual([1]);
    const wider = listOf(LOG_PROBABILITIES);
    applyTopK(wider, 2);
    applyTopP(wider, 0.65);
    expect(liveIds(wider)).toEqual([1, 3]);
  });

  it("on a large vocabulary finds the same nucleus inside and beyond the first 256 candidates", () => {
    const rng = createRng(11);
    for (const scale of [12, 0.5]) {
      const logits = Array.from({ length: 5000 }, () => scale * (rng.nextFloat() + rng.nextFloat() - 1));
      const list = listOf(logits);
      applyTopP(list, 0.9);
      const ranked = logits.map((logit, id) => ({ logit, id })).sort((a, b) => b.logit - a.logit || a.id - b.id);
      const max = ranked[0].logit;
      const total = ranked.reduce((sum, c) => sum + Math.exp(c.logit - max), 0);
      let cumulative = 0;
      let nucleus = 0;
      while (cumulative < 0.9) {
        cumulative += Math.exp(ranked[nucleus++].logit - max) / total;
      }
      expect(list.size, `scale ${scale}`).toBe(nucleus);
      expect(liveIds(list)).toEqual(ranked.slice(0, nucleus).map((c) => c.id));
      if (scale < 1) {
        expect(nucleus).toBeGreaterThan(256); // exercised the full-sort fallback
      } else {
        expect(nucleus).toBeLessThan(256);
      }
    }
  });
});

describe("min-p", () => {
  it("keeps tokens with probability >= minP times the largest, in candidate order", () => {
    const list = listOf(LOG_PROBABILITIES);
    applyMinP(list, 0.2); // threshold 0.1
    expect(liveIds(list)).toEqual([1, 2, 3]);
    const stricter = listOf(LOG_PROBABILITIES);
    applyMinP(stricter, 0.5); // threshold 0.25
    expect(liveIds(stricter)).toEqual([1, 3]);
  });

  it("keeps a sorted prefix when the candidates are sorted", () => {
    const list = listOf(LOG_PROBABILITIES);
    applyTopK(list, 4);
    applyMinP(list, 0.2);
    expect(liveIds(list)).toEqual([1, 3, 2]);
  });

  it("is relative to the max, not absolute: minP 1 keeps only the best (and its ties)", () => {
    const list = listOf([0, 7, 7, 6.99]);
    applyMinP(list, 1);
    expect(liveIds(list)).toEqual([1, 2]);
  });

  it("is off at 0", () => {
    const list = listOf(LOG_PROBABILITIES);
    applyMinP(list, 0);
    expect(list.size).toBe(4);
  });
});

describe("temperature and dist", () => {
  it("divides the candidates' logits by the temperature", () => {
    const list = listOf([1, -2, 4]);
    applyTemperature(list, 0.5);
    expect(Array.from(list.logits)).toEqual([2, -4, 8]);
  });

  it("draws by walking the cumulative probabilities in candidate order", () => {
    const logits = [0.5, 0.3, 0.2].map(Math.log);
    const draws = [0.1, 0.49, 0.51, 0.79, 0.81, 0.999].map((u) => sampleDistribution(listOf(logits), fixedRng(u)));
    expect(draws).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it("returns a single candidate without consuming randomness", () => {
    const list = listOf([1, 9, 3]);
    applyTopK(list, 1);
    expect(sampleDistribution(list, fixedRng())).toBe(1);
  });
});

describe("penalties", () => {
  const settings = (overrides: Partial<PenaltySettings>): PenaltySettings => ({
    repeatPenalty: 2,
    repeatLastN: 64,
    frequencyPenalty: 0.5,
    presencePenalty: 1,
    ...overrides,
  });

  it("divides positive, multiplies non-positive logits, then subtracts count·frequency + presence", () => {
    const logits = Float32Array.from([2, -2, 1, 0.5, 3, 0]);
    const counts = new Int32Array(6);
    applyPenalties(logits, [0, 1, 1, 4, 4, 4, 5], settings({}), counts);
    // id 0 once: 2/2 - (0.5 + 1); id 1 twice: -2*2 - (1 + 1); id 4 three times: 3/2 - (1.5 + 1); id 5 once: 0*2 - 1.5
    expect(Array.from(logits)).toEqual([-0.5, -6, 1, 0.5, -1, -1.5]);
    expect(Array.from(counts)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("looks only at the last repeatLastN tokens; 0 = off, -1 = the whole history", () => {
    const history = [0, 1, 1, 4, 4, 4];
    const run = (repeatLastN: number) => {
      const logits = Float32Array.from([2, -2, 1, 0.5, 3]);
      applyPenalties(logits, history, settings({ repeatLastN }), new Int32Array(5));
      return Array.from(logits);
    };
    expect(run(2)).toEqual([2, -2, 1, 0.5, 1.5 - (1 + 1)]);
    expect(run(0)).toEqual([2, -2, 1, 0.5, 3]);
    expect(run(-1)).toEqual([-0.5, -6, 1, 0.5, -1]);
  });

  it("applies frequency and presence alone, without a repeat penalty", () => {
    const logits = Float32Array.from([1, 1, 1]);
    applyPenalties(logits, [2, 2, 2, 0], settings({ repeatPenalty: 1, frequencyPenalty: 0.25, presencePenalty: 0 }), new Int32Array(3));
    expect(Array.from(logits)).toEqual([0.75, 1, 0.25]);
    const presenceOnly = Float32Array.from([1, 1, 1]);
    applyPenalties(presenceOnly, [2, 2, 2, 0], settings({ repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0.5 }), new Int32Array(3));
    expect(Array.from(presenceOnly)).toEqual([0.5, 1, 0.5]);
  });

  it("does nothing when every penalty is neutral, and ignores ids outside the vocabulary", () => {
    const logits = Float32Array.from([1, 2]);
    applyPenalties(logits, [0, 1], settings({ repeatPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 }), new Int32Array(2));
    expect(Array.from(logits)).toEqual([1, 2]);
    const counts = new Int32Array(2);
    applyPenalties(logits, [-1, 7, 2.5, 1], settings({ frequencyPenalty: 0, presencePenalty: 0 }), counts);
    expect(Array.from(logits)).toEqual([1, 1]);
    expect(Array.from(counts)).toEqual([0, 0]);
  });
});
