/**
 * llama.cpp (through node-llama-cpp, a devDependency) as the reference engine for
 * conformance tests. Never imported from src/.
 */
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

/** How llama.cpp runs: flash attention (default off) and threads (default 1: its split-KV decode path cuts the cache into this many chunks). */
export interface ReferenceOptions {
  readonly flashAttention?: boolean;
  readonly threads?: number;
}

/** Greedy continuation and last-position logits from llama.cpp (F16 KV cache, context 512). */
export async function referenceRun(modelPath: string, promptTokens: readonly number[], nGreedy: number, batchSize = 512, options: ReferenceOptions = {}): Promise<ReferenceRun> {
  const llama = await getReferenceLlama();
  const model: LlamaModel = await llama.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 512, flashAttention: options.flashAttention ?? false, threads: options.threads ?? 1, batchSize });
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

export { referenceCpuBuild, EMULATED_CPU_BUILD, type ReferenceCpuBuild } from "../../scripts/lib/llamaCppBuild.js";
