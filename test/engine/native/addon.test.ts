/**
 * native-addon: the addon's surface besides the kernels' arithmetic: capabilities, argument
 * errors with codes, LAYERSTREAM_SIMD / LAYERSTREAM_NATIVE, and the loader's fallbacks.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import type { NativeWeightType } from "../../../src/engine/native/addonTypes.js";
import { findNativeAddon, probeNative } from "../../../src/engine/native/loadNative.js";
import { physicalCoreCount } from "../../../src/engine/native/threads.js";
import { matmul } from "../../../src/engine/quant/matmul.js";
import { describeNative, mismatches, quantizeRows, randomBlocks, randomValues } from "./helpers.js";

/** Runs `code` (ESM, may import the loader) in a fresh node with `env` added; returns stdout. */
function runNode(code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

const LOADER = JSON.stringify(path.resolve("src/engine/native/loadNative.ts"));

describe("native-loader", () => {
  it("LAYERSTREAM_NATIVE=0 disables the addon with a one-line reason", () => {
    const probe = probeNative({ LAYERSTREAM_NATIVE: "0" });
    expect(probe.addon).toBeUndefined();
    expect(probe.failure?.reason).toBe("DISABLED");
    expect(probe.failure?.message).not.toContain("\n");
  });

  it("a missing binary is NOT_BUILT, a broken one LOAD_FAILED; neither throws", () => {
    const missing = probeNative({}, findNativeAddon(mkdtempSync(path.join(os.tmpdir(), "ls-no-addon-"))) ?? null);
    expect(missing.addon).toBeUndefined();
    expect(missing.failure?.reason).toBe("NOT_BUILT");
    expect(missing.failure?.message).toMatch(/native kernels not built for linux-/);
    const brokenPath = path.join(mkdtempSync(path.join(os.tmpdir(), "ls-native-")), "broken.node");
    writeFileSync(brokenPath, "not a shared library");
    const broken = probeNative({}, brokenPath);
    expect(broken.addon).toBeUndefined();
    expect(broken.failure?.reason).toBe("LOAD_FAILED");
    expect(broken.failure?.message).not.toContain("\n");
    const json = probeNative({}, path.resolve("package.json")); // loads, but is not the addon
    expect(json.failure?.reason).toBe("INCOMPLETE");
  });

  it("physicalCoreCount gives a positive core count no larger than the logical CPU count", async () => {
    const cores = await physicalCoreCount();
    expect(Number.isInteger(cores) && cores >= 1).toBe(true);
    expect(cores).toBeLessThanOrEqual(os.availableParallelism());
  });

  it("loadNative caches its first answer and nativeLoadFailure explains it", () => {
    const stdout = runNode(
      `import { loadNative, nativeLoadFailure } from ${LOADER};
       const first = loadNative();
       process.env.LAYERSTREAM_NATIVE = "1";
       console.log(JSON.stringify({ loaded: first !== undefined, again: loadNative() === first, failure: nativeLoadFailure()?.reason ?? null }));`,
      { LAYERSTREAM_NATIVE: "0" },
    );
    expect(JSON.parse(stdout)).toEqual({ loaded: false, again: true, failure: "DISABLED" });
  });
});

describeNative("native-addon", (addon) => {

  it("capabilities names the ISA path, the pool size and the compiler", () => {
    const caps = addon.capabilities();
    expect(["avx512", "avx2", "neon", "scalar"]).toContain(caps.isa);
    expect(Number.isInteger(caps.threads) && caps.threads >= 1).toBe(true);
    expect(caps.spinMicros).toBe(5000);
    expect(caps.compiler).toMatch(/^(gcc|clang|msvc) /);
  });

  it("LAYERSTREAM_SIMD forces a lower ISA path and is ignored when it asks for more than the CPU has", () => {
    const isaWith = (value: string) =>
      runNode(`import { loadNative } from ${LOADER}; console.log(loadNative().capabilities().isa);`, { LAYERSTREAM_SIMD: value }).trim();
    const best = addon.capabilities().availableIsas[0];
    expect(isaWith("scalar")).toBe("scalar");
    expect(isaWith("bogus")).toBe(best);
    if (addon.capabilities().availableIsas.includes("avx2")) expect(isaWith("avx2")).toBe("avx2");
  });

  it("setThreads resizes the pool; setIsa switches paths and rejects unknown or unsupported ones", () => {
    const before = addon.capabilities();
    try {
      addon.setThreads(3, 100);
      expect(addon.capabilities()).toMatchObject({ threads: 3, spinMicros: 100 });
      addon.setThreads(2);
      expect(addon.capabilities()).toMatchObject({ threads: 2, spinMicros: 100 }); // spin kept when omitted
      expect(() => addon.setThreads(2, -5)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      expect(() => addon.setThreads(2, 2e6)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      addon.setIsa("scalar");
      expect(addon.capabilities().isa).toBe("scalar");
      expect(() => addon.setThreads(0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      expect(() => addon.setThreads(1.5)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      expect(() => addon.setIsa("avx9000" as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
      const foreign = before.availableIsas.includes("neon") ? "avx2" : "neon";
      expect(() => addon.setIsa(foreign)).toThrow(expect.objectContaining({ code: "ISA_UNAVAILABLE" }));
    } finally {
      addon.setThreads(before.threads, before.spinMicros);
      addon.setIsa(before.isa);
    }
  });

  it("matmul rejects wrong argument types, short buffers, partial blocks and unsupported types with codes", () => {
    const nCols = 64;
    const nRows = 3;
    const weight = quantizeRows(GgmlType.Q8_0, randomValues(nCols * nRows, 1), nCols, nRows);
    const x = randomValues(nCols, 2);
    const out = new Float32Array(nRows);
    const call = (o: unknown, w: unknown, type: number, xs: unknown, c = nCols, r = nRows, t = 1) =>
      () => addon.matmul(o as Float32Array, w as Uint8Array, type as NativeWeightType, xs as Float32Array, c, r, t);
    expect(call(new Float64Array(nRows), weight, GgmlType.Q8_0, x)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", name: "TypeError" }));
    expect(call(out, Array.from(weight), GgmlType.Q8_0, x)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(call(out, weight, GgmlType.Q8_0, x, nCols, -1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(call(out, weight.subarray(1), GgmlType.Q8_0, x)).toThrow(expect.objectContaining({ code: "SHAPE_MISMATCH", name: "RangeError" }));
    expect(call(out, weight, GgmlType.Q8_0, x.subarray(1))).toThrow(expect.objectContaining({ code: "SHAPE_MISMATCH" }));
    expect(call(out.subarray(1), weight, GgmlType.Q8_0, x)).toThrow(expect.objectContaining({ code: "SHAPE_MISMATCH" }));
    expect(call(out, weight, GgmlType.Q8_0, x, 48)).toThrow(expect.objectContaining({ code: "SHAPE_MISMATCH" }));
    expect(call(out, weight, GgmlType.IQ2_XXS, x)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_TYPE" }));
    expect(call(out, weight, GgmlType.Q8_0, x)).not.toThrow();
  });

  it("big matmuls (where the worker thread takes part) give the same bits on 1 and 2 threads", () => {
    const before = addon.capabilities().threads;
    const nCols = 2048;
    const nRows = 1024;
    // types whose paths differ: repacked Q4_0, vec_dot Q8_0, tinyBLAS F16 (batches), repacked Q4_K gemm + gemv
    const cases: Array<[GgmlType, number]> = [
      [GgmlType.Q4_0, 1],
      [GgmlType.Q4_0, 9],
      [GgmlType.Q8_0, 1],
      [GgmlType.Q8_0, 9],
      [GgmlType.F16, 8],
      [GgmlType.Q4_K, 6],
    ];
    try {
      for (const [type, nTokens] of cases) {
        const weight = randomBlocks(type, nCols, nRows, type * 31 + nTokens);
        const x = randomValues(nCols * nTokens, 77, 1);
        const results: Float32Array[] = [];
        for (const threads of [1, 2, 2, 2]) {
          addon.setThreads(threads);
          const out = new Float32Array(nRows * nTokens);
          addon.matmul(out, weight, type as NativeWeightType, x, nCols, nRows, nTokens);
          results.push(out);
        }
        for (const out of results.slice(1)) expect(mismatches(out, results[0]), `${GgmlType[type]} × ${nTokens} tokens`).toEqual([]);
        if (nTokens === 1) {
          const expected = new Float32Array(nRows);
          matmul(expected, weight, type, x, nCols, nRows, 1);
          expect(mismatches(results[1], expected), `${GgmlType[type]} vs TypeScript`).toEqual([]);
        }
      }
    } finally {
      addon.setThreads(before);
    }
  });
});
