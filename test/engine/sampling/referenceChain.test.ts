/**
 * The optimized Sampler (heap top-k, partial top-p, packed-key sort, scratch reuse)
 * against a plain reading of llama.cpp's chain written with arrays of objects and full
 * sorts, on vocabularies large enough to take every fast path. Also checks speed at a
 * 150k vocabulary.
 */
import { describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../../src/engine/sampling/rng.js";
import { resolveSamplerOptions, type SamplerOptions } from "../../../src/engine/sampling/options.js";
import { Sampler } from "../../../src/engine/sampling/sampler.js";

const f32 = Math.fround;

interface Candidate {
  id: number;
  logit: number;
}

const byRank = (a: Candidate, b: Candidate) => b.logit - a.logit || a.id - b.id;

/** llama.cpp's default chain, straightforwardly (f32 rounding where llama.cpp uses float) */
function referenceSample(input: Float32Array, history: readonly number[], partial: Partial<SamplerOptions>, rng: Rng): number {
  const o = resolveSamplerOptions(partial);
  let candidates: Candidate[] = Array.from(input, (logit, id) => ({ id, logit }));
  let sorted = false;

  const repeat = f32(o.repeatPenalty);
  const frequency = f32(o.frequencyPenalty);
  const presence = f32(o.presencePenalty);
  if (o.repeatLastN !== 0 && !(repeat === 1 && frequency === 0 && presence === 0)) {
    const window = o.repeatLastN < 0 ? history : history.slice(Math.max(0, history.length - o.repeatLastN));
    const counts = new Map<number, number>();
    for (const id of window) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const c of candidates) {
      const count = counts.get(c.id);
      if (!count) continue;
      const scaled = c.logit <= 0 ? f32(c.logit * repeat) : f32(c.logit / repeat);
      c.logit = f32(scaled - f32(f32(count * frequency) + presence));
    }
  }

  if (o.temperature <= 0) {
    return candidates.reduce((best, c) => (c.logit > best.logit ? c : best)).id;
  }
  if (o.topK > 0) {
    candidates = [...candidates].sort(byRank).slice(0, o.topK);
    sorted = true;
  }
  const maxOf = () => Math.max(...candidates.map((c) => c.logit));
  if (f32(o.topP) < 1) {
    const max = maxOf();
    let sum = 0;
    for (const c of candidates) sum = f32(sum + f32(Math.exp(f32(c.logit - max))));
    if (!sorted) candidates.sort(byRank);
    sorted = true;
    let cumulative = 0;
    let kept = candidates.length;
    for (let i = 0; i < candidates.length; i++) {
      cumulative = f32(cumulative + f32(f32(Math.exp(f32(candidates[i].logit - max))) / sum));
      if (cumulative >= f32(o.topP)) {
        kept = i + 1;
        break;
      }
    }
    candidates = candidates.slice(0, kept);
  }
  if (o.minP > 0) {
    const minLogit = f32(maxOf() + f32(Math.log(f32(o.minP))));
    candidates = sorted
      ? candidates.filter((c, i) => i === 0 || c.logit >= minLogit)
      : candidates.filter((c) => c.logit >= minLogit);
  }
  for (const c of candidates) c.logit = f32(c.logit / f32(o.temperature));
  if (candidates.length === 1) return candidates[0].id;
  const max = maxOf();
  const weights = candidates.map((c) => f32(Math.exp(f32(c.logit - max))));
  const total = weights.reduce((a, b) => a + b, 0);
  const target = total * rng.nextFloat();
  let running = 0;
  for (let i = 0; i < candidates.length; i++) {
    running += weights[i];
    if (running >= target) return candidates[i].id;
  }
  return candidates[candidates.length - 1].id;
}

function randomLogits(nVocab: number, seed: number, scale: number, quantum = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: nVocab }, () => {
    const value = scale * (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5);
    return quantum > 0 ? Math.round(value / quantum) * quantum : value;
  });
}

describe("Sampler agrees with a plain reference chain", () => {
  const scenarios: { name: string; options: Partial<SamplerOptions>; scale: number; quantum?: number }[] = [
    { name: "defaults", options: {}, scale: 8 },
    { name: "top-p without top-k, peaked (nucleus within the first 256)", options: { topK: 0, minP: 0 }, scale: 10 },
    { name: "top-p without top-k, flat (full-sort fallback)", options: { topK: 0, minP: 0, topP: 0.9 }, scale: 1 },
    { name: "min-p on unsorted candidates", options: { topK: 0, topP: 1, minP: 0.02, temperature: 1.1 }, scale: 6 },
    { name: "large top-k with many ties", options: { topK: 1500, topP: 0.97, minP: 0 }, scale: 3, quantum: 0.25 },
    { name: "no filters", options: { topK: 0, topP: 1, minP: 0, temperature: 0.7 }, scale: 5 },
    { name: "penalties", options: { repeatPenalty: 1.2, repeatLastN: 16, frequencyPenalty: 0.3, presencePenalty: 0.4, topK: 50 }, scale: 4 },
    { name: "greedy with penalties", options: { temperature: 0, repeatPenalty: 2, repeatLastN: -1 }, scale: 4 },
  ];

  for (const [index, scenario] of scenarios.entries()) {
    it(scenario.name, () => {
      const nVocab = 5000;
      const sampler = new Sampler(scenario.options, createRng(index));
      const referenceRng = createRng(index);
      const history: number[] = [];
      const ours: number[] = [];
      const reference: number[] = [];
      for (let step = 0; step < 30; step++) {
        const logits = randomLogits(nVocab, 1000 * index + step, scenario.scale, scenario.quantum);
        // a history that repeats a few tokens, some of them likely ones
        const recent = [...history.slice(-10), step % 7, (step * 13) % 50];
        ours.push(sampler.sample(logits, recent));
        reference.push(referenceSample(logits, recent, scenario.options, referenceRng));
        history.push(ours[ours.length - 1]);
      }
      expect(ours).toEqual(reference);
    });
  }
});

describe("Sampler speed at a 150k vocabulary", () => {
  const nVocab = 150_000;
  const logits = randomLogits(nVocab, 5, 6);
  const history = Array.from({ length: 64 }, (_, i) => (i * 2311) % nVocab);

  function msPerSample(options: Partial<SamplerOptions>, nSamples: number): number {
    const sampler = new Sampler(options, createRng(1));
    sampler.sample(logits, history); // warm-up, allocates the scratch
    const start = performance.now();
    for (let i = 0; i < nSamples; i++) {
      sampler.sample(logits, history);
    }
    return (performance.now() - start) / nSamples;
  }

  // bounds are ~10x what an idle machine measures (about 1 ms and 25 ms), to stay robust on a busy one
  it("samples with llama.cpp's defaults (top-k 40) in a few milliseconds", () => {
    expect(msPerSample({ repeatPenalty: 1.1 }, 40)).toBeLessThan(25);
  });

  it("samples with top-p over the whole vocabulary (sort fallback) fast enough", () => {
    // flat logits force top-p past the first 256 candidates, i.e. a full sort
    const sampler = new Sampler({ topK: 0, topP: 0.95, minP: 0 }, createRng(1));
    const flat = randomLogits(nVocab, 6, 0.5);
    sampler.sample(flat, []);
    const start = performance.now();
    for (let i = 0; i < 5; i++) sampler.sample(flat, []);
    expect((performance.now() - start) / 5).toBeLessThan(250);
    expect(msPerSample({ topK: 0, topP: 0.95, minP: 0.05 }, 10)).toBeLessThan(150);
  });
});
