/**
 * native-pack: weights packed for the matmul kernels (addon.pack, native/simd/src/generic/pack.h)
 * give exactly the bits of the same weights in the file's order — on the path that packed them
 * (AVX-512: 16-row tiles read whole) and on every other ISA path (which unpacks tile by tile), for
 * one token (decode), the tile sizes of short batches and the panels of long ones, 1 and 2 threads.
 * Packing is a permutation: same length, nothing lost; types and shapes without a packed layout
 * get null, and a packed type number on a shape that cannot be packed is a named error.
 */
import { afterAll, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { PACKED_TYPE_FLAG, type NativeIsa, type NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { describeNative, mismatches, randomBlocks, randomValues } from "./helpers.js";

/** [nCols, nRows] per block size: one block per row; several tiles and blocks; a 5632-wide row (ffn_down) */
const SHAPES_32: ReadonlyArray<readonly [nCols: number, nRows: number]> = [
  [32, 16],
  [256, 48],
  [5632, 32],
];
const SHAPES_256: ReadonlyArray<readonly [nCols: number, nRows: number]> = [
  [256, 16],
  [512, 48],
  [5632, 32],
];
/** 1 (decode), the 16×8/4/2-token tiles with leftovers, and ≥ 16 tokens (panels) */
const TOKEN_COUNTS = [1, 2, 5, 11, 16, 19];
const PACKED_TYPES = [GgmlType.Q4_0, GgmlType.IQ4_NL, GgmlType.Q4_K] as const;
const shapesOf = (type: GgmlType) => (type === GgmlType.Q4_K ? SHAPES_256 : SHAPES_32);

describeNative("native-pack", (addon) => {
  const initial = addon.capabilities();
  afterAll(() => {
    addon.setIsa(initial.isa);
    addon.setThreads(initial.threads);
  });
  const pack = (bytes: Uint8Array, type: GgmlType, nCols: number, nRows: number) => {
    if (!addon.pack) throw new Error("this addon build has no pack()");
    return addon.pack(bytes, type as NativeWeightType, nCols, nRows);
  };

  it("packs Q4_0, IQ4_NL and Q4_K on AVX-512 into as many bytes, in another order", () => {
    if (!initial.availableIsas.includes("avx512")) return expect(pack(randomBlocks(GgmlType.Q4_0, 64, 16, 1), GgmlType.Q4_0, 64, 16)).toBeNull();
    addon.setIsa("avx512");
    for (const type of PACKED_TYPES) {
      const nCols = shapesOf(type)[1][0];
      const bytes = randomBlocks(type, nCols, 32, 2);
      const packed = pack(bytes, type, nCols, 32);
      expect(packed).toBeInstanceOf(Uint8Array);
      expect(packed!.length).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(packed!), Buffer.from(bytes))).not.toBe(0);
      expect([...packed!].sort((a, b) => a - b)).toEqual([...bytes].sort((a, b) => a - b));
    }
  });

  it("gives the same bits as the file's order on every ISA path, 1 and 2 threads", () => {
    if (!initial.availableIsas.includes("avx512")) return;
    for (const type of PACKED_TYPES) {
      for (const [nCols, nRows] of shapesOf(type)) {
        addon.setIsa("avx512");
        const bytes = randomBlocks(type, nCols, nRows, nCols + nRows + type);
        const packed = pack(bytes, type, nCols, nRows)!;
        for (const isa of initial.availableIsas as NativeIsa[]) {
          addon.setIsa(isa);
          for (const threads of [1, 2]) {
            addon.setThreads(threads);
            for (const nTokens of TOKEN_COUNTS) {
              const x = randomValues(nCols * nTokens, nTokens * 7 + nCols);
              const expected = new Float32Array(nTokens * nRows);
              const actual = new Float32Array(nTokens * nRows);
              addon.matmul(expected, bytes, type as NativeWeightType, x, nCols, nRows, nTokens);
              addon.matmul(actual, packed, (type | PACKED_TYPE_FLAG) as NativeWeightType, x, nCols, nRows, nTokens);
              expect(mismatches(actual, expected), `${GgmlType[type]} ${nRows}×${nCols}, ${nTokens} tokens, ${isa}, ${threads} threads`).toEqual([]);
            }
          }
        }
      }
    }
  });

  it("returns null for types and shapes without a packed layout", () => {
    addon.setIsa(initial.isa);
    expect(pack(randomBlocks(GgmlType.Q8_0, 64, 16, 3), GgmlType.Q8_0, 64, 16)).toBeNull();
    expect(pack(randomBlocks(GgmlType.Q4_0, 64, 24, 4), GgmlType.Q4_0, 64, 24)).toBeNull(); // 24 rows: not whole 16-row tiles
    // too few bytes for the shape: named, where the path packs (elsewhere it returns null first)
    if (initial.availableIsas.includes("avx512")) {
      addon.setIsa("avx512");
      expect(() => pack(new Uint8Array(10), GgmlType.Q4_0, 64, 16)).toThrow(/weight has 10 bytes, needs 576/);
    }
  });

  it("refuses a packed type number on a shape that has no packed layout", () => {
    const bytes = randomBlocks(GgmlType.Q4_0, 64, 24, 5);
    const out = new Float32Array(24);
    expect(() => addon.matmul(out, bytes, (GgmlType.Q4_0 | PACKED_TYPE_FLAG) as NativeWeightType, new Float32Array(64), 64, 24, 1)).toThrow(/no packed layout/);
  });
});
