import { describe, expect, it } from "vitest";
import { KvCache } from "../../../src/engine/model/kvCache.js";
import { roundToF16 } from "../../../src/engine/ggml/fp16.js";

function rowValues(n: number, start: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (start + i) * 0.1234567);
}

describe("KvCache", () => {
  it("stores f16-rounded values by default and exact values as f32", () => {
    const k = rowValues(4, 1);
    const v = rowValues(4, 10);
    const half = new KvCache(4, 16);
    half.store(0, 0, 1, k, v);
    const { keys } = half.raw(0);
    expect(keys).toBeInstanceOf(Uint16Array);
    const exact = new KvCache(4, 16, "f32");
    exact.store(0, 0, 1, k, v);
    expect(Array.from(exact.raw(0).keys.subarray(0, 4))).toEqual(Array.from(k));
    expect(Array.from(k).map(roundToF16)).not.toEqual(Array.from(k));
  });

  it("allocates a layer only when it is first stored, and grows past its first capacity", () => {
    const cache = new KvCache(2, 1000);
    expect(cache.nBytes).toBe(0);
    cache.store(3, 0, 1, rowValues(2, 0), rowValues(2, 0));
    const first = cache.nBytes;
    expect(first).toBeGreaterThan(0);
    for (let p = 1; p < 200; p++) cache.store(3, p, 1, rowValues(2, p), rowValues(2, p));
    expect(cache.lengthOf(3)).toBe(200);
    expect(cache.lengthOf(0)).toBe(0);
    expect(cache.nBytes).toBeGreaterThan(first);
  });

  it("reserves twice a prompt's positions at its first store, so the generation after it does not regrow the layer", () => {
    const nKv = 4;
    const cache = new KvCache(nKv, 4096);
    cache.store(0, 0, 128, rowValues(128 * nKv, 0), rowValues(128 * nKv, 1));
    const { keys } = cache.raw(0);
    for (let p = 128; p < 256; p++) cache.store(0, p, 1, rowValues(nKv, p), rowValues(nKv, p));
    expect(cache.raw(0).keys).toBe(keys);
    cache.store(0, 256, 1, rowValues(nKv, 256), rowValues(nKv, 256));
    expect(cache.raw(0).keys).not.toBe(keys);
    // never beyond the context
    const small = new KvCache(nKv, 100);
    small.store(0, 0, 80, rowValues(80 * nKv, 0), rowValues(80 * nKv, 1));
    expect(small.raw(0).keys.length).toBe(100 * nKv);
  });

  it("refuses to store past the context size and to leave gaps", () => {
    const cache = new KvCache(2, 4);
    expect(() => cache.store(0, 0, 5, rowValues(10, 0), rowValues(10, 0))).toThrow(/context is full/);
    expect(() => cache.store(0, 2, 1, rowValues(2, 0), rowValues(2, 0))).toThrow(/holds 0 positions/);
  });

  it("rewinds when storing at an earlier position, and truncates every layer", () => {
    const cache = new KvCache(2, 16);
    for (const layer of [0, 1]) cache.store(layer, 0, 3, rowValues(6, 0), rowValues(6, 0));
    cache.store(0, 1, 1, rowValues(2, 50), rowValues(2, 50));
    expect(cache.lengthOf(0)).toBe(2);
    cache.truncate(1);
    expect(cache.lengthOf(0)).toBe(1);
    expect(cache.lengthOf(1)).toBe(1);
  });
});
