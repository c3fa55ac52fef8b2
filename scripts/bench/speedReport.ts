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
    speedRow(`${r.weightType} (${formatBytes(r.fileBytes)})`, "layerstream", r.layerstream),
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
      const start = [r.weightType, formatBytes(r.weightBytes), `${boundMs.toFixed(1)} ms`, lsMs.toFixed(1), lcMs.toFixed(1)];
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
    .map((r) => `- ${r.weightType}: ${check("decode", r.layerstream.decodeTokensPerSecond / r.llamaCpp.decodeTokensPerSecond, 0.8)}; ${check("prefill", r.layerstream.prefillTokensPerSecond / r.llamaCpp.prefillTokensPerSecond, 0.5)}`)
    .join("\n");
}

/**
 * Issue 20's targets: layerstream ÷ native llama.cpp ≥ 1.0 for decode and prefill, and on the 7B
 * shape Q4_0 decode ≥ 70% of the memory-bandwidth bound (weights per token ÷ `bandwidth`).
 */
export function nativeTargetsList(results: readonly SpeedResult[], bandwidthBytesPerSecond: number): string {
  const mark = (got: number, want: number) => `${got.toFixed(2)}× ${got >= want ? "(met)" : "(**missed**)"}`;
  return results
    .filter((r) => r.native)
    .map((r) => {
      const decode = r.layerstream.decodeTokensPerSecond / r.native!.decodeTokensPerSecond;
      const prefill = r.layerstream.prefillTokensPerSecond / r.native!.prefillTokensPerSecond;
      const ofBound = (r.weightBytes / bandwidthBytesPerSecond) * r.layerstream.decodeTokensPerSecond;
      const boundNote = /7b/i.test(r.name) ? `; decode at ${(100 * ofBound).toFixed(0)}% of the bound ${ofBound >= 0.7 ? "(met)" : "(**missed**: ≥ 70%)"}` : "";
      return `- ${r.name.replace(/^.*\//, "")}: decode ${mark(decode, 1)}, prefill ${mark(prefill, 1)}${boundNote}`;
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
      return `- ${r.weightType}: ${parts.join("; ")}`;
    })
    .join("\n");
}
