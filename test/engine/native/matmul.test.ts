/**
 * native-matmul: the addon's matmul on every weight type, every ISA path this CPU runs, 1 and 2
 * threads, against (a) the TypeScript reference `matmul` (src/engine/quant/matmul.ts), which it
 * must reproduce bit for bit, and (b) an f64 matmul of the dequantized weights and unquantized
 * activations, within the activation quantization error.
 */
import { afterAll, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import type { NativeIsa, NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { matmul } from "../../../src/engine/quant/matmul.js";
import { weightKernel } from "../../../src/engine/quant/table.js";
import { describeNative, mismatches, NATIVE_WEIGHT_TYPES, quantizeRows, randomValues, referenceMatmul } from "./helpers.js";

/** native vs the TypeScript reference: f32 results differing in any bit */
const MAX_MISMATCHES_VS_TYPESCRIPT = 0;

/**
 * |native − f64 reference| ≤ tolerance · Σ|W|·amax(x block), by activation type: f32 rounding
 * only (F32); half/bfloat16 rounding of x (2^-11, 2^-8); 8-bit codes (0.5/127 of the block's amax,
 * plus the half-precision scale).
 */
const MAX_ERROR_VS_F64 = {
  f32: 3e-5,
  f16: 6e-4,
  bf16: 4.5e-3,
  q8: 4.5e-3,
} as const;

/**
 * 13 rows: not a multiple of the 2 threads, of the row tiles or of 8 (Q4_0/Q4_K not repacked);
 * 40: repacked, several chunks; 48 × 19 tokens: the 16-row × 8-token tiles plus leftover tokens
 * (AVX-512 block-32 batches: three 16-row panels, 3-token passes and a 1-token one); 20 × 15:
 * vec_dot's 8-, 4- and 1-token tiles (AVX-512: a panel, then 4 rows of tiles); 33 × 11: two
 * panels with a 2-token leftover (1-token passes), then one row.
 */
const SHAPES: ReadonlyArray<readonly [nRows: number, nTokens: number]> = [
  [13, 1],
  [13, 7],
  [40, 1],
  [40, 7],
  [48, 19],
  [20, 15], // block-32 vec_dot batches: a 4-row × 8-token tile, then 4 tokens, then 3 single ones
  [33, 11],
];

function columnCounts(type: GgmlType): number[] {
  const { blockSize } = weightKernel(type);
  if (blockSize === 256) return [512];
  if (blockSize === 32) return [160];
  return [205, 256]; // leftovers after 64-value steps (vec_dot); whole 16/32-value vectors (tinyBLAS batches)
}

function errorClass(type: GgmlType): keyof typeof MAX_ERROR_VS_F64 {
  if (type === GgmlType.F32) return "f32";
  if (type === GgmlType.F16) return "f16";
  if (type === GgmlType.BF16) return "bf16";
  return "q8";
}

interface DataCase {
  readonly name: string;
  /** weights [nRows, nCols] and activations [nTokens, nCols] in f32 */
  make(nCols: number, nRows: number, nTokens: number, seed: number): { w: Float32Array; x: Float32Array };
}

const DATA_CASES: readonly DataCase[] = [
  { name: "random", make: (c, r, t, s) => ({ w: randomValues(c * r, s, 0.5), x: randomValues(c * t, s + 1, 2) }) },
  { name: "scale 1e-3", make: (c, r, t, s) => ({ w: randomValues(c * r, s, 1e-3), x: randomValues(c * t, s + 1, 1e-3) }) },
  { name: "scale 1e3", make: (c, r, t, s) => ({ w: randomValues(c * r, s, 1e3), x: randomValues(c * t, s + 1, 1e3) }) },
  {
    name: "all-zero blocks",
    make(c, r, t, s) {
      const w = randomValues(c * r, s, 0.5);
      const x = randomValues(c * t, s + 1, 2);
      for (let row = 0; row < r; row += 2) w.fill(0, row * c, row * c + Math.min(c, 256)); // first block(s) of every other row
      for (let tok = 0; tok < t; tok++) x.fill(0, tok * c + 32, tok * c + 64); // one 32-value block of each token
      x.fill(0, (t - 1) * c, t * c); // a whole zero token
      return { w, x };
    },
  },
  {
    name: "±amax ties",
    make(c, r, t, s) {
      const w = randomValues(c * r, s, 0.5);
      const x = randomValues(c * t, s + 1, 1);
      for (let tok = 0; tok < t; tok++) {
        for (let b = 0; b + 32 <= c; b += 32) {
          x[tok * c + b + 1] = -8; // -amax first, then +amax (the Q8_K sign rules differ here)
          x[tok * c + b + 9] = 8;
        }
      }
      return { w, x };
    },
  },
];

describeNative("native-matmul", (addon) => {
  const capabilities = addon.capabilities();
  const initialIsa = capabilities.isa;
  const initialThreads = capabilities.threads;
  afterAll(() => {
    addon.setIsa(initialIsa);
    addon.setThreads(initialThreads);
  });

  it("runs on this CPU's best ISA and lists scalar among the available paths", () => {
    expect(capabilities.availableIsas).toContain("scalar");
    expect(capabilities.availableIsas[0]).toBe(capabilities.isa);
  });

  for (const type of NATIVE_WEIGHT_TYPES) {
    const name = GgmlType[type];
    for (const data of DATA_CASES) {
      it(`${name} ${data.name}: bit-identical to TypeScript on every ISA and thread count, near f64`, () => {
        let seed = type * 1000 + 17;
        for (const nCols of columnCounts(type)) {
          for (const [nRows, nTokens] of SHAPES) {
            seed += 7;
            const { w, x } = data.make(nCols, nRows, nTokens, seed);
            const weight = quantizeRows(type, w, nCols, nRows);
            const expected = new Float32Array(nRows * nTokens);
            matmul(expected, weight, type, x, nCols, nRows, nTokens);
            const reference = referenceMatmul(type, weight, x, nCols, nRows, nTokens);
            const tolerance = MAX_ERROR_VS_F64[errorClass(type)];
            for (const isa of capabilities.availableIsas as NativeIsa[]) {
              addon.setIsa(isa);
              for (const threads of [1, 2]) {
                addon.setThreads(threads);
                const out = new Float32Array(nRows * nTokens).fill(Number.NaN);
                addon.matmul(out, weight, type as NativeWeightType, x, nCols, nRows, nTokens);
                const where = `${name} ${nCols}×${nRows}, ${nTokens} tokens, ${isa}, ${threads} threads`;
                const bad = mismatches(out, expected);
                expect(bad.length, `${where}: ${bad.length} outputs differ from TypeScript, first at ${bad[0]}: ${out[bad[0]]} vs ${expected[bad[0]]}`).toBeLessThanOrEqual(
                  MAX_MISMATCHES_VS_TYPESCRIPT,
                );
                for (let i = 0; i < out.length; i++) {
                  const error = Math.abs(out[i] - reference.out[i]);
                  if (!(error <= tolerance * reference.scale[i] + 1e-30)) {
                    expect.fail(`${where}: output ${i} = ${out[i]}, f64 reference ${reference.out[i]} (error ${error}, allowed ${tolerance * reference.scale[i]})`);
                  }
                }
              }
            }
          }
        }
      });
    }
  }

  it("a weight row is read once for a batch: batched outputs equal one-token calls where the path is the same", () => {
    // Q8_0 always takes ggml's vec_dot, so every token of a batch must equal its own decode call
    addon.setIsa(initialIsa);
    const nCols = 256;
    const nRows = 37;
    const nTokens = 9;
    const weight = quantizeRows(GgmlType.Q8_0, randomValues(nCols * nRows, 5, 0.3), nCols, nRows);
    const x = randomValues(nCols * nTokens, 6, 1.5);
    const batched = new Float32Array(nRows * nTokens);
    addon.matmul(batched, weight, GgmlType.Q8_0, x, nCols, nRows, nTokens);
    for (let t = 0; t < nTokens; t++) {
      const single = new Float32Array(nRows);
      addon.matmul(single, weight, GgmlType.Q8_0, x.subarray(t * nCols, (t + 1) * nCols), nCols, nRows, 1);
      expect(mismatches(single, batched.subarray(t * nRows, (t + 1) * nRows))).toEqual([]);
    }
  });
});
