/**
 * `npm run bench`'s native llama.cpp column: llama-bench's flags and JSON parsing, and the tables
 * with and without it (no build, no model: pure functions of scripts/bench).
 */
import { describe, expect, it } from "vitest";
import { llamaBenchArgs, nativeBuildDirName, nativeCmakeFlags, parseLlamaBenchJson } from "../../scripts/bench/llamaBenchNative.js";
import { boundTable, medianSpeed, nativeTargetsList, perRunList, speedTable, type SpeedResult } from "../../scripts/bench/speedReport.js";

const LLAMA_BENCH_JSON = JSON.stringify([
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 128, n_gen: 0, n_depth: 0, avg_ns: 1, stddev_ns: 0, avg_ts: 180.5, stddev_ts: 0, samples_ts: [180.5] },
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 0, n_gen: 32, n_depth: 0, avg_ns: 1, stddev_ns: 0, avg_ts: 25.25, stddev_ts: 0, samples_ts: [25.25] },
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 128, n_gen: 0, n_depth: 128, avg_ns: 1, stddev_ns: 0, avg_ts: 170.5, stddev_ts: 0, samples_ts: [170.5] },
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 0, n_gen: 32, n_depth: 128, avg_ns: 1, stddev_ns: 0, avg_ts: 24.5, stddev_ts: 0, samples_ts: [24.5] },
]);

const speed = (prefill: number, decode: number) => ({ prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode });

function result(withNative: boolean): SpeedResult {
  const native = [speed(200, 25), speed(180, 20), speed(190, 30)];
  const layerstream = [speed(100, 20), speed(90, 18), speed(110, 22)];
  return {
    name: "~/m.gguf", weightType: "Q4_0", fileBytes: 600 << 20, weightBytes: 500 << 20,
    layerstream: medianSpeed(layerstream), llamaCpp: speed(150, 22), native: withNative ? medianSpeed(native) : undefined,
    runs: { layerstream, llamaCpp: [speed(150, 22)], baseline: [], native: withNative ? native : [] },
    bandwidths: [35e9, 30e9, 40e9],
  };
}

describe("bench: native llama.cpp (llama-bench)", () => {
  it("runs llama-bench with the other columns' settings: threads, prompt, tokens, flash attention off, mmap, JSON", () => {
    const args = llamaBenchArgs("/m.gguf", { nThreads: 2, nPromptTokens: 128, nDecodeTokens: 32 }).join(" ");
    // decode after as many tokens of context as the prompt (-d), as the other engines decode
    expect(args).toBe("-m /m.gguf -t 2 -p 128 -n 32 -d 0,128 -b 512 -ub 512 -fa off -lm mmap -r 1 -o json");
  });

  it("builds for this CPU with OpenMP, without AMX on x86 (its matmul crashes in KVM guests), into a directory keyed by the flags", () => {
    const x64 = nativeCmakeFlags("x64");
    expect(x64).toContain("-DGGML_NATIVE=ON");
    expect(x64).toContain("-DGGML_OPENMP=ON");
    expect(x64).toContain("-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16");
    expect(nativeCmakeFlags("arm64").some((f) => f.includes("amx"))).toBe(false);
    const commit = "de3ff815ea7d0123456789abcdef0123456789ab";
    expect(nativeBuildDirName(commit, x64)).toMatch(/^llama\.cpp-build-de3ff815ea7d-[0-9a-f]{8}$/);
    expect(nativeBuildDirName(commit, x64)).not.toBe(nativeBuildDirName(commit, nativeCmakeFlags("arm64")));
  });

  it("takes prefill from the pp row at depth 0 and decode from the tg row at the prompt's depth", () => {
    expect(parseLlamaBenchJson(LLAMA_BENCH_JSON, 128)).toEqual(speed(180.5, 24.5));
    expect(parseLlamaBenchJson(LLAMA_BENCH_JSON)).toEqual(speed(180.5, 25.25));
    expect(() => parseLlamaBenchJson(JSON.stringify([JSON.parse(LLAMA_BENCH_JSON)[0]]))).toThrow(/tg row/);
    expect(() => parseLlamaBenchJson(LLAMA_BENCH_JSON, 64)).toThrow(/tg row/);
  });

  it("checks issue 20's targets against native: ratios of the medians and of each round, the bound on the 7B shape per repetition", () => {
    const small = result(true);
    const bigRuns = [speed(200, 8), speed(200, 7), speed(200, 9)];
    const big = { ...result(true), name: "~/llama7b-shape-Q4_0.gguf", weightBytes: 3.5e9, layerstream: medianSpeed(bigRuns), runs: { ...result(true).runs, layerstream: bigRuns } };
    const list = nativeTargetsList([small, big], 35e9).split("\n");
    expect(list[0]).toBe("- Q4_0: decode 0.80× (**missed**) (each round: 0.80, 0.90, 0.73), prefill 0.53× (**missed**)");
    // 3.5 GB at 35 GB/s: 100 ms per token at best; 8 tok/s = 125 ms: 80% of the bound; each repetition
    // against its own bandwidth: 8 at 35, 7 at 30 (82%), 9 at 40 GB/s (79%)
    expect(list[1]).toBe(
      "- llama7b Q4_0: decode 0.32× (**missed**) (each round: 0.32, 0.35, 0.30), prefill 1.05× (met); decode at 80% of the bound (met) " +
        "(each repetition against the bandwidth measured before it: 80, 82, 79%; against the run's median bandwidth 80%)",
    );
    expect(nativeTargetsList([result(false)], 35e9)).toBe("");
    expect(speedTable([big])).toContain("| llama7b Q4_0 (600 MiB) | layerstream |");
  });

  it("adds native rows, layerstream ÷ native and native ms/token only when measured", () => {
    const withNative = speedTable([result(true)]);
    expect(withNative).toContain("|  | llama.cpp native (llama-bench) | 190.0 | 25.00 |");
    expect(withNative).toContain("|  | **layerstream ÷ native** | **0.53×** | **0.80×** |");
    expect(speedTable([result(false)])).not.toContain("native");
    const bound = boundTable([result(true)], 51e9).split("\n");
    expect(bound[0]).toContain("native ms/token");
    expect(bound[2]).toContain("| 40.0 |");
    expect(boundTable([result(false)], 51e9)).not.toContain("native");
    expect(perRunList([result(true)])).toBe("- Q4_0: layerstream 100/20.0, 90/18.0, 110/22.0; llama.cpp 150/22.0; native 200/25.0, 180/20.0, 190/30.0");
  });
});
