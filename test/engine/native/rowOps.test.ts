/**
 * native-row-ops: the addon's SiLU·mul, RMSNorm, RoPE and f32 → half against the TypeScript
 * reference (siluMulInPlaceTypeScript / rmsNormTypeScript in src/engine/model/ops.ts,
 * applyRopeTypeScript in rope.ts, f32ArrayToF16 in ggml/fp16.ts), bit for bit, on every ISA path this CPU has, with 1, 2 and 3 threads (row counts not
 * divisible by the thread count), on random and adversarial data (odd sizes, n % 16 tails,
 * exp saturation, ±∞, NaN, subnormals, overflowing squares).
 */
import { afterAll, describe, expect, it } from "vitest";
import { rmsNormTypeScript, siluMulInPlaceTypeScript } from "../../../src/engine/model/ops.js";
import { applyRopeTypeScript, RopeTable } from "../../../src/engine/model/rope.js";
import { f32ArrayToF16 } from "../../../src/engine/ggml/fp16.js";
import { nativeBackend } from "../../../src/engine/backend/nativeBackend.js";
import { TYPESCRIPT_BACKEND } from "../../../src/engine/backend/typescriptBackend.js";
import type { RopeParams } from "../../../src/engine/model/hparams.js";
import type { NativeIsa } from "../../../src/engine/native/addonTypes.js";
import { describeNative, mismatches, randomValues, seededRandom } from "./helpers.js";

/** native vs the TypeScript reference: f32 outputs differing in any bit (NaN equals NaN) */
const MAX_MISMATCHES_VS_TYPESCRIPT = 0;
const THREADS = [1, 2, 3];

/** Random values of mixed scales with adversarial ones sprinkled in. */
function adversarialValues(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const special = [0, -0, 1, -1, 88.7, -88.7, 89, -89, 104, -104, 133.1, -133.1, 134, -134, 1e10, -1e10, 3e38, -3e38,
    Infinity, -Infinity, Number.NaN, 1e-45, -1e-45, 1e-39, 2 ** -30, -(2 ** -30), 0.34657359, -0.34657359, 1.0397208, -1.0397208];
  const out = randomValues(n, seed, 4);
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.15) out[i] = special[Math.floor(random() * special.length)];
    else if (r < 0.3) out[i] = (random() - 0.5) * 400; // around and past the exp saturation (|n| > 192)
    else if (r < 0.35) out[i] = (random() - 0.5) * 2 ** Math.floor(random() * 60 - 30);
  }
  return out;
}

function codeOf(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
}

describe("siluMulInPlaceTypeScript (the reference)", () => {
  it("saturates like the hardware where x·log2(e) overflows f32: silu(3e38) = 3e38, silu(−3e38) = −0", () => {
    const gate = new Float32Array(32).fill(3e38);
    gate.fill(-3e38, 16);
    siluMulInPlaceTypeScript(gate, new Float32Array(32).fill(1), 32);
    expect(gate[0]).toBe(Math.fround(3e38));
    expect(Object.is(gate[16], -0)).toBe(true);
  });
});

describeNative("native-row-ops", (addon) => {
  const initial = addon.capabilities();
  const isas = initial.availableIsas as readonly NativeIsa[];
  afterAll(() => {
    addon.setIsa(initial.isa);
    addon.setThreads(initial.threads);
  });

  /** Runs check(label) on every ISA path and thread count. */
  function everyPath(check: (label: string) => void): void {
    for (const isa of isas) {
      addon.setIsa(isa);
      for (const threads of THREADS) {
        addon.setThreads(threads);
        check(`${isa} ${threads} thr`);
      }
    }
    addon.setIsa(initial.isa);
    addon.setThreads(initial.threads);
  }

  it("siluMul: bit-identical to siluMulInPlaceTypeScript per row (chunks of 16 and the libm-style tail)", () => {
    // [n, rows]: tails only (n < 16), chunk edges, odd rows, TinyLlama's 5632, batches big enough for the pool
    const shapes: ReadonlyArray<readonly [number, number]> = [[1, 1], [15, 3], [16, 2], [17, 5], [31, 7], [100, 3], [5632, 1], [5632, 5], [1000, 37], [15, 3000]];
    let seed = 1;
    let nCompared = 0;
    for (const [n, rows] of shapes) {
      for (const data of ["random", "adversarial"]) {
        seed += 10;
        const gate = data === "random" ? randomValues(n * rows, seed, 3) : adversarialValues(n * rows, seed);
        const up = data === "random" ? randomValues(n * rows, seed + 1) : adversarialValues(n * rows, seed + 1);
        const expected = gate.slice();
        for (let r = 0; r < rows; r++) siluMulInPlaceTypeScript(expected.subarray(r * n), up.subarray(r * n), n);
        everyPath((path) => {
          const actual = gate.slice();
          addon.siluMul(actual, up, n, rows);
          const label = `n ${n} rows ${rows} ${data} ${path}`;
          expect(mismatches(actual, expected).length, label).toBeLessThanOrEqual(MAX_MISMATCHES_VS_TYPESCRIPT);
          nCompared += actual.length;
        });
      }
    }
    expect(nCompared).toBeGreaterThan(100_000);
  });

  it("siluMul: the tail reproduces Math.exp bit for bit over a wide range (every value a tail value)", () => {
    const n = 15;
    const rows = 20_000;
    const random = seededRandom(77);
    const gate = new Float32Array(n * rows);
    for (let i = 0; i < gate.length; i++) gate[i] = (random() - 0.5) * 2 ** (Math.floor(random() * 16) - 6); // |x| up to 512
    gate[0] = -1; // exp(1): V8's special case
    const up = new Float32Array(n * rows).fill(1);
    const expected = gate.slice();
    for (let r = 0; r < rows; r++) siluMulInPlaceTypeScript(expected.subarray(r * n), up.subarray(r * n), n);
    everyPath((path) => {
      const actual = gate.slice();
      addon.siluMul(actual, up, n, rows);
      expect(mismatches(actual, expected), path).toEqual([]);
    });
  });

  it("rmsNorm: bit-identical to rmsNormTypeScript, also in place", () => {
    const shapes: ReadonlyArray<readonly [number, number]> = [[1, 1], [7, 3], [333, 17], [2048, 1], [2048, 9], [2048, 64]];
    const scales = [1, 1e-22, 1e19]; // ordinary, squares underflowing, squares overflowing f32
    let seed = 100;
    for (const [n, nTokens] of shapes) {
      for (const sigma of scales) {
        for (const eps of [Math.fround(1e-5), Math.fround(1e-6), 1e-5]) {
          seed += 3;
          const x = sigma === 1 && n > 7 ? adversarialValues(n * nTokens, seed) : randomValues(n * nTokens, seed, sigma);
          if (nTokens > 2) x.fill(0, 0, n); // an all-zero row: scale 1/√eps
          const weight = randomValues(n, seed + 1);
          const expected = new Float32Array(n * nTokens);
          rmsNormTypeScript(expected, x, weight, n, nTokens, eps);
          everyPath((path) => {
            const label = `n ${n} nTokens ${nTokens} sigma ${sigma} eps ${eps} ${path}`;
            const actual = new Float32Array(n * nTokens).fill(Number.NaN);
            addon.rmsNorm(actual, x, weight, n, nTokens, eps);
            expect(mismatches(actual, expected).length, label).toBeLessThanOrEqual(MAX_MISMATCHES_VS_TYPESCRIPT);
            const inPlace = x.slice();
            addon.rmsNorm(inPlace, inPlace, weight, n, nTokens, eps);
            expect(mismatches(inPlace, expected).length, `${label} in place`).toBeLessThanOrEqual(MAX_MISMATCHES_VS_TYPESCRIPT);
          });
        }
      }
    }
  });

  it("rope: bit-identical to applyRopeTypeScript token by token (norm and neox, partial rotation, strided tokens)", () => {
    const base: RopeParams = { layout: "norm", nRot: 64, freqBase: 10000, freqScale: 1, scalingType: "none", nCtxOrig: 2048, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1 };
    // [nHeads, headDim, nRot, nTokens, extra stride]
    const shapes: ReadonlyArray<readonly [number, number, number, number, number]> = [[1, 4, 4, 1, 0], [3, 6, 4, 5, 0], [32, 64, 64, 7, 0], [4, 64, 64, 33, 0], [5, 128, 128, 3, 7], [2, 10, 6, 9, 3]];
    let seed = 500;
    for (const layout of ["norm", "neox"] as const) {
      for (const [nHeads, headDim, nRot, nTokens, gap] of shapes) {
        for (const position of [0, 255, 4093]) {
          seed += 7;
          const table = new RopeTable({ ...base, layout, nRot, freqBase: nRot === 128 ? 1e6 : 10000 });
          const stride = nHeads * headDim + gap;
          const x = seed % 2 === 0 ? adversarialValues(stride * nTokens, seed) : randomValues(stride * nTokens, seed, 2);
          const expected = x.slice();
          for (let t = 0; t < nTokens; t++) applyRopeTypeScript(expected, t * stride, nHeads, headDim, table.cosSin(position + t), layout);
          const cosSin = table.cosSinRows(position, nTokens).slice();
          everyPath((path) => {
            const label = `${layout} ${nHeads}×${headDim} nRot ${nRot} nTokens ${nTokens} stride ${stride} pos ${position} ${path}`;
            const actual = x.slice();
            addon.rope(actual, 0, nTokens, stride, nHeads, headDim, cosSin, nRot, layout === "neox");
            expect(mismatches(actual, expected).length, label).toBeLessThanOrEqual(MAX_MISMATCHES_VS_TYPESCRIPT);
          });
        }
      }
    }
  });

  it("the native backend's row ops give the TypeScript backend's bits", () => {
    addon.setIsa(initial.isa);
    const native = nativeBackend(addon);
    const n = 5632;
    const rows = 3;
    const gate = adversarialValues(n * rows, 9);
    const up = randomValues(n * rows, 10);
    const expected = gate.slice();
    TYPESCRIPT_BACKEND.siluMul(expected, up, n, rows);
    const viaNative = gate.slice();
    native.siluMul(viaNative, up, n, rows);
    expect(mismatches(viaNative, expected)).toEqual([]);

    const x = randomValues(2048 * 5, 11);
    const weight = randomValues(2048, 12);
    const normExpected = new Float32Array(x.length);
    TYPESCRIPT_BACKEND.rmsNorm(normExpected, x, weight, 2048, 5, 1e-5);
    const normActual = new Float32Array(x.length);
    native.rmsNorm(normActual, x, weight, 2048, 5, 1e-5);
    expect(mismatches(normActual, normExpected)).toEqual([]);

    const table = new RopeTable({ layout: "norm", nRot: 64, freqBase: 10000, freqScale: 1, scalingType: "none", nCtxOrig: 2048, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1 });
    const q = randomValues(4 * 2048, 13);
    const ropeExpected = q.slice();
    for (let t = 0; t < 4; t++) applyRopeTypeScript(ropeExpected, t * 2048, 32, 64, table.cosSin(17 + t), "norm");
    const ropeTs = q.slice();
    TYPESCRIPT_BACKEND.rope(ropeTs, 4, 32, 64, table, 17);
    expect(mismatches(ropeTs, ropeExpected)).toEqual([]);
    const ropeNative = q.slice();
    native.rope(ropeNative, 4, 32, 64, table, 17);
    expect(mismatches(ropeNative, ropeExpected)).toEqual([]);
  });

  it("toHalf: bit-identical to f32ArrayToF16 (16-value chunks and tails; ties, subnormal halves, overflow, NaN payloads)", () => {
    const random = seededRandom(5);
    const values = adversarialValues(1000, 9);
    const edges = [65504, 65519.99, 65520, -65520, 2 ** -14, 2 ** -14 - 2 ** -30, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051];
    for (let i = 0; i < values.length; i++) if (random() < 0.1) values[i] = edges[Math.floor(random() * edges.length)];
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < bits.length; i += 37) bits[i] = (Math.floor(random() * 2 ** 32) >>> 0) | 0x7f800001; // NaNs with payloads, either sign
    if (!addon.toHalf) throw new Error("this addon build has no toHalf()");
    everyPath((label) => {
      for (const n of [1, 15, 16, 17, 1000]) {
        const expected = new Uint16Array(n + 3);
        const actual = new Uint16Array(n + 3);
        f32ArrayToF16(values.subarray(0, n), expected, 3);
        addon.toHalf!(values.subarray(0, n), actual, 3);
        expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)), `${label}, ${n} values`).toBe(true);
      }
    });
  });

  it("rejects bad shapes and buffers with codes", () => {
    expect(codeOf(() => addon.toHalf!(new Float32Array(8), new Uint16Array(10), 3))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.toHalf!(new Float32Array(8), new Float32Array(10) as never, 0))).toBe("INVALID_ARGUMENT");
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    expect(codeOf(() => addon.siluMul(a, b.subarray(1), 16, 4))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.siluMul(a, b, 16, 4.5))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => addon.siluMul(a, new Uint8Array(64) as never, 16, 4))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => addon.rmsNorm(a, b, new Float32Array(8), 16, 4, 1e-5))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.rmsNorm(a, b, b, 16, 4, "x" as never))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => addon.rope(a, 0, 2, 32, 2, 16, b, 15, false))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.rope(a, 0, 2, 16, 2, 16, b, 16, false))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.rope(a, 40, 2, 32, 2, 16, b, 16, false))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.rope(a, 0, 2, 32, 2, 16, b.subarray(40), 16, false))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => addon.rope(a, 0, 2, 32, 2, 16, b, 16, 1 as never))).toBe("INVALID_ARGUMENT");
  });
});
