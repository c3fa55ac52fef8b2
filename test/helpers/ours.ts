/** Our engine driven the way the conformance tests drive llama.cpp: greedy, no penalties. */
import { Model } from "../../src/engine/model/model.js";
import { Session } from "../../src/engine/session.js";
import { generate } from "../../src/engine/generate.js";
import { Sampler } from "../../src/engine/sampling/sampler.js";
import { createRng } from "../../src/engine/sampling/rng.js";
import type { ComputeBackend } from "../../src/engine/backend/computeBackend.js";

export interface OurRun {
  promptTokens: number[];
  greedyTokens: number[];
  /** logits after the last prompt token, f32 [nVocab] */
  lastLogits: Float32Array;
}

/** @param flashAttention llama.cpp's -fa numerics (with a 512-position context, as referenceRun's) */
export async function runOurs(modelPath: string, prompt: string, nGreedy: number, backend?: ComputeBackend, flashAttention = false, batchSize?: number): Promise<OurRun> {
  using model = Model.open(modelPath, { backend, ...(flashAttention ? { flashAttention, contextSize: 512 } : {}) });
  await using runner = model.createLocalRunner();
  const promptTokens = model.tokenizer.encode(prompt, { addSpecial: true, parseSpecial: false });
  const session = new Session(model, runner, 0, { batchSize });
  const lastLogits = Float32Array.from(await session.evaluate(promptTokens));
  await session.rewind(0);
  const sampler = new Sampler({ temperature: 0 }, createRng(1));
  const greedyTokens: number[] = [];
  for await (const piece of generate(session, promptTokens, { maxTokens: nGreedy, sampler, ignoreEos: true })) {
    if (piece.token >= 0) greedyTokens.push(piece.token);
  }
  return { promptTokens, greedyTokens, lastLogits };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) max = Math.max(max, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return max;
}
