import { readFileSync } from "node:fs";

/**
 * Which of its x86 CPU builds llama.cpp loads here (node-llama-cpp ships one libggml-cpu per
 * CPU family and ggml picks the best one the CPU supports), judged from /proc/cpuinfo as ggml
 * scores them. layerstream's kernels emulate the `zen4` build's arithmetic bit for bit (the
 * AVX-512 + VNNI + BF16 build used on AMD Zen 4 and on Intel CPUs with those features but no
 * AMX). On `sapphirerapids` (Intel with AMX) llama.cpp multiplies Q4_0/Q4_1/Q8_0/K-quant
 * weights with its AMX kernels and F16 weights differently, so results differ in the last bits
 * for legacy quants and visibly for F16 and K-quants; "other" builds are not characterized.
 */
export type ReferenceCpuBuild = "zen4" | "sapphirerapids" | "other";

export function referenceCpuBuild(cpuinfo: string = readCpuinfo()): ReferenceCpuBuild {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "").trim().split(/\s+/));
  const avx512 = ["avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw", "avx512vbmi", "avx512_vnni", "avx512_bf16"].every((f) => flags.has(f));
  if (avx512 && flags.has("amx_tile") && flags.has("amx_int8")) return "sapphirerapids";
  if (avx512) return "zen4";
  return "other";
}

function readCpuinfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

/** The build layerstream's kernels reproduce exactly. */
export const EMULATED_CPU_BUILD: ReferenceCpuBuild = "zen4";
