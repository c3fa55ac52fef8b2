/**
 * llama.cpp (through node-llama-cpp, a devDependency) as the reference engine for
 * conformance tests. Never imported from src/.
 */
import { readFileSync } from "node:fs";
import type { Llama, LlamaModel } from "node-llama-cpp";

let llamaPromise: Promise<Llama> | undefined;

export function getReferenceLlama(): Promise<Llama> {
  llamaPromise ??= import("node-llama-cpp").then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }),
  );
  return llamaPromise;
}

export interface ReferenceRun {
  /** llama.cpp's tokens for the prompt, BOS included when the model adds one */
  promptTokens: number[];
  /** greedy continuation */
  greedyTokens: number[];
  /** logits after the last prompt token, f32 [nVocab] */
  lastLogits: Float32Array;
}

/** Greedy continuation and last-position logits from llama.cpp (non-flash attention, F16 KV cache). */
export async function referenceRun(modelPath: string, promptTokens: readonly number[], nGreedy: number, batchSize = 512): Promise<ReferenceRun> {
  const llama = await getReferenceLlama();
  const model: LlamaModel = await llama.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 512, flashAttention: false, threads: 1, batchSize });
    try {
      const sequence = context.getSequence();
      const input = promptTokens.map((token, i) =>
        i === promptTokens.length - 1 ? ([token as never, { generateNext: { logits: true } }] as const) : (token as never),
      );
      const results = await sequence.controlledEvaluate(input as never);
      const logitsMap = results[promptTokens.length - 1]?.next?.logits as Map<number, number> | undefined;
      if (!logitsMap) throw new Error("llama.cpp returned no logits");
      const lastLogits = new Float32Array(Math.max(...logitsMap.keys()) + 1);
      for (const [token, value] of logitsMap) lastLogits[token] = value;

      await sequence.clearHistory();
      const greedyTokens: number[] = [];
      for await (const token of sequence.evaluate(promptTokens as never[], { temperature: 0 })) {
        greedyTokens.push(token as unknown as number);
        if (greedyTokens.length >= nGreedy) break;
      }
      return { promptTokens: [...promptTokens], greedyTokens, lastLogits };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** llama.cpp's tokenization of `text` with special tokens added as the model wants (BOS). */
export async function referenceTokenize(modelPath: string, texts: readonly string[]): Promise<number[][]> {
  const llama = await getReferenceLlama();
  const model = await llama.loadModel({ modelPath });
  try {
    return texts.map((text) => {
      const tokens = model.tokenize(text) as unknown as number[];
      const bos = model.tokens.bos as unknown as number | null;
      return model.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : [...tokens];
    });
  } finally {
    await model.dispose();
  }
}

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
