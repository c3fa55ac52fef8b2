/**
 * Conformance with llama.cpp on synthetic models written by the project's own writer:
 * every supported weight type, both architectures, GQA, Q/K/V biases and RoPE scaling.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType, ggmlTypeName } from "../../src/engine/ggml/types.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../helpers/syntheticModel.js";
import { referenceRun, getReferenceLlama } from "../helpers/llamaCpp.js";
import { runOurs, maxAbsDiff } from "../helpers/ours.js";
import { KERNEL_PATHS, selectKernels } from "../helpers/kernels.js";

const SMALL = { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 160, nVocab: 320, seed: 7 } as const;
const KQUANT = { nEmbd: 256, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 512, nVocab: 320, seed: 11 } as const;

interface Case {
  readonly name: string;
  readonly spec: SyntheticModelSpec;
  /** largest |ours − llama.cpp| over the last-position logits */
  readonly maxLogitDiff: number;
}

const CASES: Case[] = [
  ...[GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1].map(
    (weightType): Case => ({
      name: `llama ${ggmlTypeName(weightType)}`,
      spec: { ...SMALL, weightType, embdType: weightType === GgmlType.BF16 ? GgmlType.F16 : weightType },
      maxLogitDiff: weightType === GgmlType.F32 ? 1e-3 : 5e-3,
    }),
  ),
  ...[GgmlType.Q4_K, GgmlType.Q6_K].map(
    (weightType): Case => ({ name: `llama ${ggmlTypeName(weightType)}`, spec: { ...KQUANT, weightType }, maxLogitDiff: 5e-3 }),
  ),
  { name: "llama Q4_K_M-like mix (Q4_K + Q6_K head)", spec: { ...KQUANT, weightType: GgmlType.Q4_K, outputType: GgmlType.Q6_K }, maxLogitDiff: 5e-3 },
  { name: "qwen2 F32 (Q/K/V biases, NeoX RoPE)", spec: { ...SMALL, architecture: "qwen2", weightType: GgmlType.F32 }, maxLogitDiff: 1e-3 },
  { name: "qwen2 Q8_0, tied embeddings", spec: { ...SMALL, architecture: "qwen2", weightType: GgmlType.Q8_0, tiedEmbeddings: true }, maxLogitDiff: 5e-3 },
  { name: "llama F32, linear RoPE scaling ×4", spec: { ...SMALL, weightType: GgmlType.F32, ropeScalingLinear: 4 }, maxLogitDiff: 1e-3 },
];

const PROMPT = "once upon a time the little girl saw a big red ball and she said";
const N_GREEDY = 24;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-synthetic-"));
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await (await getReferenceLlama()).dispose();
});

describe.each(KERNEL_PATHS)("%s kernels: conformance with llama.cpp on synthetic models", (kernels) => {
  beforeAll(() => selectKernels(kernels));
  it.each(CASES)("$name: same greedy tokens and close logits", async ({ name, spec, maxLogitDiff }) => {
    const modelPath = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, "_")}.gguf`);
    await writeSyntheticModel(modelPath, { weightScale: 2, ...spec });
    const ours = await runOurs(modelPath, PROMPT, N_GREEDY);
    const reference = await referenceRun(modelPath, ours.promptTokens, N_GREEDY);
    expect(ours.greedyTokens).toEqual(reference.greedyTokens);
    expect(maxAbsDiff(ours.lastLogits, reference.lastLogits)).toBeLessThanOrEqual(maxLogitDiff);
  });
});
