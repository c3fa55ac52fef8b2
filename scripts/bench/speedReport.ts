/** Tables of `npm run bench` (speed.ts): medians per engine, ratios, the memory-bound comparison and each run. */
import { formatBytes } from "../../src/engine/streaming/byteSize.js";

export interface Speed {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/**
 * layerstream: this checkout; baseline: another build (--baseline); llamaCpp: node-llama-cpp's
 * prebuilt library; native: llama-bench built for this CPU (llamaBenchNative.ts)
 */
export type Engine = "layerstream" | "baseline" | "llamaCpp" | "native";

export interface SpeedResult {
  name: string;
  weightType: string;
  fileBytes: number;
  weightBytes: number;
  layerstream: Speed;
  llamaCpp: Speed;
  baseline?: Speed;
  native?: Speed;
  runs: Record<Engine, Speed[]>;
  /** read bandwidth measured before each repetition, bytes per second (runs[engine][i] followed bandwidths[i]) */
  bandwidths: number[];
}

/** A model's name in the tables: its weight type, after its shape unless it is TinyLlama's (the default). */
export function modelLabel(r: Pick<SpeedResult, "name" | "weightType">): string {
  const shape = /([^/]+)-shape-[^/]*$/.exec(r.name)?.[1];
  return shape && shape !== "tinyllama" ? `${shape} ${r.weightType}` : r.weightType;
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median prefill and median decode speed (each on its own) of some runs. */
export function medianSpeed(runs: readonly Speed[]): Speed {
  return {
    prefillTokensPerSecond: median(runs.map((x) => x.prefillTokensPerSecond)),
    decodeTokensPerSecond: median(runs.map((x) => x.decodeTokensPerSecond)),
  };
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const speedRow = (model: string, engine: string, s: Speed) => row([model, engine, s.prefillTokensPerSecond.toFixed(1), s.decodeTokensPerSecond.toFixed(2)]);
const ratioRow = (label: string, a: Speed, b: Speed) => row(["", label, ratio(a.prefillTokensPerSecond, b.prefillTokensPerSecond), ratio(a.decodeTokensPerSecond, b.decodeTokensPerSecond)]);
const boldRatioRow = (label: string, a: Speed, b: Speed) =>
  row(["", `**${label}**`, `**${ratio(a.prefillTokensPerSecond, b.prefillTokensPerSecond)}**`, `**${ratio(a.decodeTokensPerSecond, b.decodeTokensPerSecond)}**`]);

/** Rows of one model: each engine's medians and the ratios layerstream ÷ the others. */
function modelRows(r: SpeedResult): string[] {
  return [
    speedRow(`${modelLabel(r)} (${formatBytes(r.fileBytes)})`, "layerstream", r.layerstream),
    speedRow("", "llama.cpp (node-llama-cpp)", r.llamaCpp),
    ...(r.native ? [speedRow("", "llama.cpp native (llama-bench)", r.native)] : []),
    boldRatioRow("layerstream ÷ llama.cpp", r.layerstream, r.llamaCpp),
    ...(r.native ? [boldRatioRow("layerstream ÷ native", r.layerstream, r.native)] : []),
    ...(r.baseline
      ? [speedRow("", "baseline layerstream", r.baseline), ratioRow("baseline ÷ llama.cpp", r.baseline, r.llamaCpp), boldRatioRow("layerstream ÷ baseline", r.layerstream, r.baseline)]
      : []),
  ];
}

export function speedTable(results: readonly SpeedResult[]): string {
  return [row(["model", "engine", "prefill tok/s", "decode tok/s"]), row(["---", "---", "---:", "---:"]), ...results.flatMap(modelRows)].join("\n");
}

/** Decode ms/token of each engine against weights-read-per-token ÷ `boundBytesPerSecond`. */
export function boundTable(results: readonly SpeedResult[], boundBytesPerSecond: number): string {
  const withNative = results.some((r) => r.native);
  const header = ["model", "weights read per token", `bound at ${(boundBytesPerSecond / 1e9).toFixed(0)} GB/s`, "layerstream ms/token", "llama.cpp ms/token"];
  const headerEnd = ["layerstream ÷ bound", "llama.cpp ÷ bound"];
  return [
    row(withNative ? [...header, "native ms/token", ...headerEnd, "native ÷ bound"] : [...header, ...headerEnd]),
    row(["---", ...Array<string>(withNative ? 8 : 6).fill("---:")]),
    ...results.map((r) => {
      const boundMs = (1000 * r.weightBytes) / boundBytesPerSecond;
      const lsMs = 1000 / r.layerstream.decodeTokensPerSecond;
      const lcMs = 1000 / r.llamaCpp.decodeTokensPerSecond;
      const nativeMs = r.native ? 1000 / r.native.decodeTokensPerSecond : NaN;
      const start = [modelLabel(r), formatBytes(r.weightBytes), `${boundMs.toFixed(1)} ms`, lsMs.toFixed(1), lcMs.toFixed(1)];
      const end = [ratio(lsMs, boundMs), ratio(lcMs, boundMs)];
      return row(withNative ? [...start, r.native ? nativeMs.toFixed(1) : "–", ...end, r.native ? ratio(nativeMs, boundMs) : "–"] : [...start, ...end]);
    }),
  ].join("\n");
}

/** Issue 3's targets for Q4_0 and Q8_0: layerstream ÷ llama.cpp (node-llama-cpp) decode ≥ 0.8, prefill ≥ 0.5. */
export function targetsList(results: readonly SpeedResult[]): string {
  const check = (what: string, got: number, want: number) =>
    `${what} ${got.toFixed(2)}× vs ≥ ${want}× (${got >= want ? "met" : `missed by ${(want - got).toFixed(2)}×: ${((want / got - 1) * 100).toFixed(0)}% more speed needed`})`;
  return results
    .filter((r) => r.weightType === "Q4_0" || r.weightType === "Q8_0")
    .map((r) => `- ${modelLabel(r)}: ${check("decode", r.layerstream.decodeTokensPerSecond / r.llamaCpp.decodeTokensPerSecond, 0.8)}; ${check("prefill", r.layerstream.prefillTokensPerSecond / r.llamaCpp.prefillTokensPerSecond, 0.5)}`)
    .join("\n");
}

/**
 * Issue 20's targets: layerstream ÷ native llama.cpp ≥ 1.0 for decode and prefill (medians of the
 * alternating rounds; each round's own decode ratio beside them), and on the 7B shape Q4_0 decode
 * ≥ 70% of the memory-bandwidth bound: each repetition's decode against the bandwidth measured
 * just before it (the VM's bandwidth drifts between repetitions), the median of those; and against
 * the run's median bandwidth (`bandwidthBytesPerSecond`).
 */
export function nativeTargetsList(results: readonly SpeedResult[], bandwidthBytesPerSecond: number): string {
  const mark = (got: number, want: number) => `${got.toFixed(2)}× ${got >= want ? "(met)" : "(**missed**)"}`;
  const list = (xs: readonly number[], digits = 2) => xs.map((x) => x.toFixed(digits)).join(", ");
  return results
    .filter((r) => r.native)
    .map((r) => {
      const decode = r.layerstream.decodeTokensPerSecond / r.native!.decodeTokensPerSecond;
      const prefill = r.layerstream.prefillTokensPerSecond / r.native!.prefillTokensPerSecond;
      const rounds = r.runs.layerstream.slice(0, r.runs.native.length);
      const perRound = rounds.map((s, i) => s.decodeTokensPerSecond / r.runs.native[i].decodeTokensPerSecond);
      const paired = r.runs.layerstream.map((s, i) => (r.weightBytes / r.bandwidths[i]) * s.decodeTokensPerSecond);
      const ofPaired = median(paired);
      const ofMedian = (r.weightBytes / bandwidthBytesPerSecond) * r.layerstream.decodeTokensPerSecond;
      const boundNote = /7b/i.test(r.name)
        ? `; decode at ${(100 * ofPaired).toFixed(0)}% of the bound ${ofPaired >= 0.7 ? "(met)" : "(**missed**: ≥ 70%)"} (each repetition against the bandwidth measured before it: ${list(paired.map((x) => 100 * x), 0)}%; against the run's median bandwidth ${(100 * ofMedian).toFixed(0)}%)`
        : "";
      return `- ${modelLabel(r)}: decode ${mark(decode, 1)} (each round: ${list(perRound)}), prefill ${mark(prefill, 1)}${boundNote}`;
    })
    .join("\n");
}

/** Every run's prefill/decode tok/s, per model and engine, in the order they ran. */
export function perRunList(results: readonly SpeedResult[]): string {
  const list = (xs: readonly Speed[]) => xs.map((s) => `${s.prefillTokensPerSecond.toFixed(0)}/${s.decodeTokensPerSecond.toFixed(1)}`).join(", ");
  return results
    .map((r) => {
      const parts = [`layerstream ${list(r.runs.layerstream)}`];
      if (r.baseline) parts.push(`baseline ${list(r.runs.baseline)}`);
      parts.push(`llama.cpp ${list(r.runs.llamaCpp)}`);
      if (r.native) parts.push(`native ${list(r.runs.native)}`);
      return `- ${modelLabel(r)}: ${parts.join("; ")}`;
    })
    .join("\n");
}
