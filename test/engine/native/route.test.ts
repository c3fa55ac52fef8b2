/**
 * native-route: the addon's `route()` (routeFor in native/simd/src/generic/route.cc) equals the
 * TypeScript kernels' `route()` (src/engine/quant) for every weight type the addon supports, over
 * a grid of shapes. Which of llama.cpp's paths computes an output fixes its f32 arithmetic, so the
 * two must agree on every shape, not only on the ones the bit-exact matmul tests use.
 */
import { expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import type { NativeArith, NativeRoute, NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { dotBf16Tiled, dotBf16Vec, dotF16Tiled, dotF16Vec, dotF32Tiled, dotF32Vec } from "../../../src/engine/quant/float-dots.js";
import type { DotPath, WeightKernel } from "../../../src/engine/quant/kernel.js";
import { dotIq4NlRepacked, dotIq4NlTiled } from "../../../src/engine/quant/iq4_nl.js";
import { dotIq4XsPanel } from "../../../src/engine/quant/iq4_xs.js";
import { dotQ2KRepackedGemm, dotQ2KRepackedGemv } from "../../../src/engine/quant/q2_k-dots.js";
import { dotQ4KRepackedGemm, dotQ4KRepackedGemv } from "../../../src/engine/quant/q4_k-dots.js";
import { weightKernel } from "../../../src/engine/quant/table.js";
import { describeNative, NATIVE_WEIGHT_TYPES, randomValues } from "./helpers.js";

/** 1 (decode), 2 and 3 (below Q4_K's gemm groups), 4 and 5 (one group, and one left over), 7 and 8 (IQ4_XS's panel threshold), ... */
const TOKEN_COUNTS = [1, 2, 3, 4, 5, 7, 8, 16, 17, 512];
/** multiples of 4, 8 and 16 and rows that are not (1, 2, 6, 12, 13, 20, 33, 4097) */
const ROW_COUNTS = [1, 2, 4, 6, 8, 12, 13, 16, 20, 24, 32, 33, 40, 48, 2048, 4097, 5632];

/** Row lengths of whole blocks; for the float types some that are and some that are not whole 16- and 32-value vectors. */
function columnCounts(type: GgmlType): number[] {
  const { blockSize } = weightKernel(type);
  if (blockSize === 256) return [256, 512, 2048];
  if (blockSize === 32) return [32, 96, 160, 2048];
  return [1, 8, 16, 48, 64, 205, 256, 2048];
}

const FLOAT_TYPES: ReadonlySet<GgmlType> = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/**
 * The name of a TypeScript path, by its dot: the kernel's vec_dot, the exported repacked Q4_K
 * and Q2_K dots, IQ4_NL's exported tiled and repacked dots, IQ4_XS's panel dot, or else the type's one other path, which float.ts (tinyBLAS) and q4_0.ts (the repacked
 * gemv) keep private — "names the TypeScript paths by what they compute" below checks those two.
 */
function arithOf(type: GgmlType, kernel: WeightKernel, path: DotPath): NativeArith {
  if (path.dot === kernel.vecDot) return "vecDot";
  if (path.dot === dotQ4KRepackedGemv || path.dot === dotQ2KRepackedGemv || path.dot === dotIq4NlRepacked || path.dot === dotIq4XsPanel) return "repackedGemv";
  if (path.dot === dotIq4NlTiled) return "tiled";
  if (path.dot === dotQ4KRepackedGemm || path.dot === dotQ2KRepackedGemm) return "repackedGemm";
  if (FLOAT_TYPES.has(type)) return "tiled";
  if (type === GgmlType.Q4_0) return "repackedGemv";
  throw new Error(`${GgmlType[type]}: a TypeScript dot path this test does not know`);
}

function typeScriptRoute(type: GgmlType, nCols: number, nRows: number, nTokens: number): NativeRoute {
  const kernel = weightKernel(type);
  const route = kernel.route(nCols, nRows, nTokens);
  return { batched: arithOf(type, kernel, route.batched), single: arithOf(type, kernel, route.single), nBatched: route.nBatched };
}

const describeRoute = (route: NativeRoute) => `{ batched: ${route.batched}, single: ${route.single}, nBatched: ${route.nBatched} }`;

/** Every path a type takes somewhere (the grid must reach each of them). */
const EXPECTED_PATHS: ReadonlyMap<GgmlType, readonly NativeArith[]> = new Map<GgmlType, readonly NativeArith[]>([
  [GgmlType.F32, ["tiled", "vecDot"]],
  [GgmlType.F16, ["tiled", "vecDot"]],
  [GgmlType.BF16, ["tiled", "vecDot"]],
  [GgmlType.Q4_0, ["repackedGemv", "vecDot"]],
  [GgmlType.Q4_K, ["repackedGemm", "repackedGemv", "vecDot"]],
  [GgmlType.Q2_K, ["repackedGemm", "repackedGemv", "vecDot"]],
  [GgmlType.IQ4_NL, ["repackedGemv", "tiled", "vecDot"]],
  [GgmlType.IQ4_XS, ["repackedGemv", "vecDot"]],
]);

/**
 * A float weight row as stored (the type's codec) and one activation row for the path: random
 * values, the weights spread over 2^-6 .. 2^6 so that the two dots' roundings differ (this seed:
 * for all three types).
 */
function encodeFloatRow(type: GgmlType, path: DotPath, n: number): { w: Uint8Array; act: Uint8Array } {
  const kernel = weightKernel(type);
  const bytesPerValue = type === GgmlType.F32 ? 4 : 2;
  const w = new Uint8Array(n * bytesPerValue);
  const act = new Uint8Array(n * bytesPerValue);
  const weights = randomValues(n, 14).map((v, i) => v * 2 ** (((i * 7) % 13) - 6));
  kernel.quantizeRow(weights, 0, w, 0, n);
  path.activation.quantizeRow(randomValues(n, 114), 0, act, 0, n);
  return { w, act };
}

/** float-dots.ts's tinyBLAS and vec_dot of a float type over whole rows. */
function floatDots(type: GgmlType, w: Uint8Array, act: Uint8Array, n: number): { tiled: number; vec: number } {
  if (type === GgmlType.F32) {
    const [x, y] = [new Float32Array(w.buffer), new Float32Array(act.buffer)];
    return { tiled: dotF32Tiled(n, x, 0, y, 0), vec: dotF32Vec(n, x, 0, y, 0) };
  }
  const [x, y] = [new Uint16Array(w.buffer), new Uint16Array(act.buffer)];
  return type === GgmlType.F16
    ? { tiled: dotF16Tiled(n, x, 0, y, 0), vec: dotF16Vec(n, x, 0, y, 0) }
    : { tiled: dotBf16Tiled(n, x, 0, y, 0), vec: dotBf16Vec(n, x, 0, y, 0) };
}

describeNative("native-route", (addon) => {
  const route = (type: NativeWeightType, nCols: number, nRows: number, nTokens: number): NativeRoute => {
    if (!addon.route) throw new Error("this build of the addon has no route() (stale build? rebuild: node native/simd/install.mjs)");
    return addon.route(type, nCols, nRows, nTokens);
  };

  for (const type of NATIVE_WEIGHT_TYPES) {
    it(`${GgmlType[type]}: the addon routes every shape of the grid as the TypeScript kernel does`, () => {
      const disagreements: string[] = [];
      const seen = new Set<NativeArith>();
      for (const nCols of columnCounts(type)) {
        for (const nRows of ROW_COUNTS) {
          for (const nTokens of TOKEN_COUNTS) {
            const expected = typeScriptRoute(type, nCols, nRows, nTokens);
            const actual = route(type, nCols, nRows, nTokens);
            if (expected.nBatched > 0) seen.add(expected.batched);
            if (expected.nBatched < nTokens) seen.add(expected.single);
            if (describeRoute(actual) !== describeRoute(expected)) {
              disagreements.push(`${nCols} cols × ${nRows} rows × ${nTokens} tokens: TypeScript ${describeRoute(expected)}, native ${describeRoute(actual)}`);
            }
          }
        }
      }
      expect(disagreements).toEqual([]);
      expect([...seen].sort()).toEqual(EXPECTED_PATHS.get(type) ?? ["vecDot"]);
    });
  }

  it("names the TypeScript paths by what they compute: tinyBLAS for the float types' batches, not vec_dot", () => {
    const n = 256;
    for (const type of FLOAT_TYPES) {
      const tsRoute = weightKernel(type).route(n, 8, 4);
      const { w, act } = encodeFloatRow(type, tsRoute.batched, n);
      const reference = floatDots(type, w, act, n);
      expect(reference.tiled).not.toBe(reference.vec); // the check below tells the two apart
      expect(tsRoute.batched.dot(n, w, 0, act, 0)).toBe(reference.tiled);
      expect(tsRoute.single.dot(n, w, 0, act, 0)).toBe(reference.vec);
    }
    const q4_0 = weightKernel(GgmlType.Q4_0);
    expect(q4_0.route(32, 8, 1).single.dot).not.toBe(q4_0.vecDot); // the repacked gemv (q4_0.ts's dotRepacked)
    expect(q4_0.route(32, 8, 1).single.dot).toBe(q4_0.route(2048, 16, 512).batched.dot);
  });

  it("rejects types without native kernels and negative sizes, with codes", () => {
    expect(() => route(GgmlType.IQ2_XXS as NativeWeightType, 256, 8, 1)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_TYPE" }));
    expect(() => route(GgmlType.Q4_0, -32, 8, 1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => route(GgmlType.Q4_0, 32, 8.5, 1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
