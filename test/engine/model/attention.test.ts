import { describe, expect, it } from "vitest";
import { attentionTypeScript as attention, AttentionScratch } from "../../../src/engine/model/attention.js";
import { KvCache } from "../../../src/engine/model/kvCache.js";

const SHAPE = { nHead: 4, nHeadKv: 2, headDim: 8 };
const nQ = SHAPE.nHead * SHAPE.headDim;
const nKv = SHAPE.nHeadKv * SHAPE.headDim;

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** Plain f64 causal attention with grouped KV heads. */
function naive(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number): Float64Array {
  const out = new Float64Array(nTokens * nQ);
  const { nHead, nHeadKv, headDim } = SHAPE;
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHead; h++) {
      const kvh = Math.floor(h / (nHead / nHeadKv));
      const scores = [];
      for (let j = 0; j <= t; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[t * nQ + h * headDim + d] * k[j * nKv + kvh * headDim + d];
        scores.push(dot / Math.sqrt(headDim));
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += (exps[j] / sum) * v[j * nKv + kvh * headDim + d];
        out[t * nQ + h * headDim + d] = acc;
      }
    }
  }
  return out;
}

describe("attention", () => {
  const nTokens = 6;
  const q = seeded(nTokens * nQ, 1);
  const k = seeded(nTokens * nKv, 2);
  const v = seeded(nTokens * nKv, 3);

  it("matches plain causal grouped-query attention (f32 cache)", () => {
    const cache = new KvCache(nKv, 64, "f32");
    cache.store(0, 0, nTokens, k, v);
    const out = new Float32Array(nTokens * nQ);
    attention(out, q, cache, 0, 0, nTokens, SHAPE, new AttentionScratch());
    const expected = naive(q, k, v, nTokens);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(expected[i], 5);
  });

  it("stays within half precision of it with the f16 cache", () => {
    const cache = new KvCache(nKv, 64, "f16");
    cache.store(0, 0, nTokens, k, v);
    const out = new Float32Array(nTokens * nQ);
    attention(out, q, cache, 0, 0, nTokens, SHAPE, new AttentionScratch());
    const expected = naive(q, k, v, nTokens);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - expected[i])).toBeLessThan(2e-3);
  });

  it("is causal: a later key does not change earlier outputs", () => {
    const run = (kk: Float32Array) => {
      const cache = new KvCache(nKv, 64, "f32");
      cache.store(0, 0, nTokens, kk, v);
      const out = new Float32Array(nTokens * nQ);
      attention(out, q, cache, 0, 0, nTokens, SHAPE, new AttentionScratch());
      return out;
    };
    const changed = Float32Array.from(k);
    changed.fill(5, (nTokens - 1) * nKv);
    const a = run(k);
    const b = run(changed);
    expect(Array.from(a.subarray(0, (nTokens - 1) * nQ))).toEqual(Array.from(b.subarray(0, (nTokens - 1) * nQ)));
    expect(Array.from(a.subarray((nTokens - 1) * nQ))).not.toEqual(Array.from(b.subarray((nTokens - 1) * nQ)));
  });

  it("decoding one token after a prefill equals prefilling both", () => {
    const whole = new KvCache(nKv, 64, "f32");
    whole.store(0, 0, nTokens, k, v);
    const all = new Float32Array(nTokens * nQ);
    attention(all, q, whole, 0, 0, nTokens, SHAPE, new AttentionScratch());
    const last = new Float32Array(nQ);
    attention(last, q.subarray((nTokens - 1) * nQ), whole, 0, nTokens - 1, 1, SHAPE, new AttentionScratch());
    expect(Array.from(last)).toEqual(Array.from(all.subarray((nTokens - 1) * nQ)));
  });
});
