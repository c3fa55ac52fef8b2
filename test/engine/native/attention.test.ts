/**
 * native-attention: the addon's F16-cache attention against the TypeScript reference
 * (`attentionTypeScript`, src/engine/model/attention.ts), which it must reproduce bit for bit on
 * every ISA path this CPU has (AVX-512 intrinsics; the portable lanes compiled for AVX2 and for
 * the scalar / NEON paths) with 1 and 2 threads.
 */
import { afterAll, expect, it } from "vitest";
import { AttentionScratch, attentionTypeScript } from "../../../src/engine/model/attention.js";
import { nativeBackend } from "../../../src/engine/backend/nativeBackend.js";
import { KvCache } from "../../../src/engine/model/kvCache.js";
import type { NativeIsa } from "../../../src/engine/native/addonTypes.js";
import { describeNative, mismatches, randomValues } from "./helpers.js";

/** native vs the TypeScript reference: f32 outputs differing in any bit */
const MAX_MISMATCHES_VS_TYPESCRIPT = 0;

interface Shape {
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
}

const SHAPES: readonly Shape[] = [
  { nHead: 4, nHeadKv: 4, headDim: 8 }, // K·Q all leftovers (double), KQV tiled for batches
  { nHead: 4, nHeadKv: 2, headDim: 16 },
  { nHead: 8, nHeadKv: 2, headDim: 64 },
  { nHead: 4, nHeadKv: 1, headDim: 128 },
  { nHead: 6, nHeadKv: 3, headDim: 72 }, // vec K·Q in batches (72 % 16 ≠ 0), 64 lanes + 8 leftovers
  { nHead: 2, nHeadKv: 1, headDim: 6 }, // KQV vec_dot in batches (6 % 4 ≠ 0)
  // no GQA (a 7B shape's heads): decode in blocks of consecutive heads (16 or 8 by thread count), batches per head
  { nHead: 32, nHeadKv: 32, headDim: 128 },
  { nHead: 8, nHeadKv: 8, headDim: 200 }, // blocks of 4 or 2; outputs in two passes of 128 + 72 (a masked tail)
  { nHead: 6, nHeadKv: 6, headDim: 72 }, // blocks of 2 (1 thread) or a head per task (2 threads); vec_dot leftovers
];

/** [position, nTokens, maxPositions]: decode and batches, crossing 256, n_kv capped at 300 (not a multiple of 16 or 64) */
const STEPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 1, 2048],
  [0, 7, 2048],
  [40, 1, 2048],
  [250, 7, 2048],
  [255, 1, 2048],
  [256, 1, 2048],
  [290, 7, 300],
  [299, 1, 300],
  [3, 20, 2048], // a batch big enough for grouped (token, KV head) tasks whatever their threshold
];

/** query / key / value scales: ordinary, and peaked softmax (exp saturates to 0 past −192·ln 2) */
const SCALES: ReadonlyArray<readonly [name: string, q: number, k: number, v: number]> = [
  ["random", 1, 1, 1],
  ["peaked", 30, 3, 100],
];

function makeCase(shape: Shape, position: number, nTokens: number, maxPositions: number, scales: readonly number[], seed: number) {
  const nKv = shape.nHeadKv * shape.headDim;
  const nPositions = position + nTokens;
  const cache = new KvCache(nKv, maxPositions, "f16");
  cache.store(0, 0, nPositions, randomValues(nPositions * nKv, seed, scales[1]), randomValues(nPositions * nKv, seed + 1, scales[2]));
  const q = randomValues(nTokens * shape.nHead * shape.headDim, seed + 2, scales[0]);
  return { cache, q, nOut: nTokens * shape.nHead * shape.headDim };
}

describeNative("native-attention", (addon) => {
  const initial = addon.capabilities();
  afterAll(() => {
    addon.setIsa(initial.isa);
    addon.setThreads(initial.threads);
  });

  const isas = initial.availableIsas as readonly NativeIsa[];

  it("checks at least the scalar path (every build has the portable kernel)", () => {
    expect(isas).toContain("scalar");
  });

  it.each(isas)("%s: bit-identical to the TypeScript attention, 1 and 2 threads", (isa) => {
    addon.setIsa(isa);
    const scratch = new AttentionScratch();
    let nCompared = 0;
    let seed = 1;
    for (const shape of SHAPES) {
      for (const [position, nTokens, maxPositions] of STEPS) {
        for (const [scaleName, ...scales] of SCALES) {
          const { cache, q, nOut } = makeCase(shape, position, nTokens, maxPositions, scales, (seed += 10));
          const expected = new Float32Array(nOut);
          attentionTypeScript(expected, q, cache, 0, position, nTokens, shape, scratch);
          const { keys, values } = cache.raw(0);
          for (const threads of [1, 2]) {
            addon.setThreads(threads);
            const actual = new Float32Array(nOut).fill(Number.NaN);
            const label = `${isa} ${JSON.stringify(shape)} position ${position} nTokens ${nTokens} max ${maxPositions} ${scaleName} ${threads} thr`;
            expect(addon.attention(actual, q, keys as Uint16Array, values as Uint16Array, position, nTokens, shape.nHead, shape.nHeadKv, shape.headDim, maxPositions), label).toBe(true);
            expect(mismatches(actual, expected).length, label).toBeLessThanOrEqual(MAX_MISMATCHES_VS_TYPESCRIPT);
            expect(expected.some((x) => x !== 0), label).toBe(true);
            nCompared += nOut;
          }
        }
      }
    }
    expect(nCompared).toBeGreaterThan(10000);
  });

  it("the native backend's attention gives the TypeScript kernel's bits", () => {
    addon.setIsa(initial.isa);
    const shape = { nHead: 8, nHeadKv: 2, headDim: 64 };
    const { cache, q, nOut } = makeCase(shape, 300, 7, 2048, [1, 1, 1], 99);
    const viaHook = new Float32Array(nOut);
    const reference = new Float32Array(nOut);
    nativeBackend(addon).attention(viaHook, q, cache, 0, 300, 7, shape, new AttentionScratch());
    attentionTypeScript(reference, q, cache, 0, 300, 7, shape, new AttentionScratch());
    expect(mismatches(viaHook, reference)).toEqual([]);
  });

  it("rejects bad shapes and buffers with codes", () => {
    const shape = { nHead: 4, nHeadKv: 2, headDim: 16 };
    const { cache, q, nOut } = makeCase(shape, 3, 2, 64, [1, 1, 1], 5);
    const { keys, values } = cache.raw(0);
    const k = keys as Uint16Array;
    const v = values as Uint16Array;
    const out = new Float32Array(nOut);
    const codeOf = (call: () => unknown): unknown => {
      try {
        call();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return "no error";
    };
    expect(codeOf(() => addon.attention(out, q, k.subarray(0, 10), v, 3, 2, 4, 2, 16, 64))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.attention(out.subarray(1), q, k, v, 3, 2, 4, 2, 16, 64))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.attention(out, q, k, v, 3, 2, 4, 3, 16, 64))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.attention(out, q, k, v, 3, 2, 4, 2, 16, 4))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.attention(out, q, k, v, 3.5, 2, 4, 2, 16, 64))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => addon.attention(out, q, new Float32Array(k.length) as never, v, 3, 2, 4, 2, 16, 64))).toBe("INVALID_ARGUMENT");
  });
});
