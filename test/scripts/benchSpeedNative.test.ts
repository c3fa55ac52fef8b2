/**
 * `npm run bench`'s native llama.cpp column: llama-bench's flags and JSON parsing, and the tables
 * with and without it (no build, no model: pure functions of scripts/bench).
 */
import { describe, expect, it } from "vitest";
import { llamaBenchArgs, parseLlamaBenchJson } from "../../scripts/bench/llamaBenchNative.js";
import { boundTable, medianSpeed, perRunList, speedTable, type SpeedResult } from "../../scripts/bench/speedReport.js";

const LLAMA_BENCH_JSON = JSON.stringify([
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 128, n_gen: 0, n_depth: 0, avg_ns: 1, stddev_ns: 0, avg_ts: 180.5, stddev_ts: 0, samples_ts: [180.5] },
  { build_commit: "de3ff81", model_type: "llama 1B Q4_0", n_threads: 2, n_prompt: 0, n_gen: 32, n_depth: 0, avg_ns: 1, stddev_ns: 0, avg_ts: 25.25, stddev_ts: 0, samples_ts: [25.25] },
]);

const speed = (prefill: number, decode: number) => ({ prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode });

function result(withNative: boolean): SpeedResult {
  const native = [speed(200, 25), speed(180, 20), speed(190, 30)];
  return {
    name: "~/m.gguf", weightType: "Q4_0", fileBytes: 600 << 20, weightBytes: 500 << 20,
    layerstream: speed(100, 20), llamaCpp: speed(150, 22), native: withNative ? medianSpeed(native) : undefined,
    runs: { layerstream: [speed(100, 20)], llamaCpp: [speed(150, 22)], baseline: [], native: withNative ? native : [] },
  };
}

describe("bench: native llama.cpp (llama-bench)", () => {
  it("runs llama-bench with the other columns' settings: threads, prompt, tokens, flash attention off, mmap, JSON", () => {
    const args = llamaBenchArgs("/m.gguf", { nThreads: 2, nPromptTokens: 128, nDecodeTokens: 32 }).join(" ");
    expect(args).toBe("-m /m.gguf -t 2 -p 128 -n 32 -b 512 -ub 512 -fa off -lm mmap -r 1 -o json");
  });

  it("takes prefill from the pp row and decode from the tg row", () => {
    expect(parseLlamaBenchJson(LLAMA_BENCH_JSON)).toEqual(speed(180.5, 25.25));
    expect(() => parseLlamaBenchJson(JSON.stringify([JSON.parse(LLAMA_BENCH_JSON)[0]]))).toThrow(/tg row/);
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
    expect(perRunList([result(true)])).toBe("- Q4_0: layerstream 100/20.0; llama.cpp 150/22.0; native 200/25.0, 180/20.0, 190/30.0");
  });
});
