/**
 * Conformance with llama.cpp on synthetic models of the architectures beyond llama/qwen2
 * (issue 17, item 2): qwen3 (per-head Q/K norms), Llama 3.1 RoPE scaling (`rope_freqs.weight`),
 * phi3 (fused Q/K/V and gate+up, partial rotary, pre-scaled query, LongRoPE), gemma2 and gemma3
 * (GeGLU, embedding scale, post-norms, soft-capping, sliding-window layers); and the one-line refusal of
 * an architecture we do not run.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../../src/engine/gguf/syntheticModel.js";
import { Model } from "../../src/engine/model/model.js";
import { UnsupportedArchitectureError } from "../../src/engine/errors.js";
import { openGgufHeader } from "../../src/engine/gguf/header.js";
import { describeGguf } from "../../src/engine/gguf/describe.js";
import { referenceRun, getReferenceLlama, referenceCpuBuild, EMULATED_CPU_BUILD } from "../helpers/llamaCpp.js";
import { runOurs, maxAbsDiff } from "../helpers/ours.js";
import { KERNEL_PATHS, backendFor } from "../helpers/kernels.js";

const SMALL = { nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 160, nVocab: 320, seed: 7 } as const;
const LLAMA3_ROPE = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 64 } as const;
/** LongRoPE factors for nRot = 8 (4 pairs); llama.cpp runs a 512-position context, ours the 2048 the file declares */
const longRope = (originalContextLength: number) => ({
  short: Float32Array.of(1, 1.25, 1.5, 2),
  long: Float32Array.of(1, 3, 9, 27),
  originalContextLength,
  attnFactor: 1.19,
});

interface Case {
  readonly name: string;
  readonly spec: SyntheticModelSpec;
  /** largest |ours − llama.cpp| over the last-position logits (the bounds of syntheticConformance.test.ts) */
  readonly maxLogitDiff: number;
}

const CASES: Case[] = [
  { name: "qwen3 F32 (per-head Q/K RMS norms, NeoX RoPE)", spec: { ...SMALL, architecture: "qwen3", weightType: GgmlType.F32 }, maxLogitDiff: 1e-3 },
  { name: "qwen3 Q8_0, tied embeddings", spec: { ...SMALL, architecture: "qwen3", weightType: GgmlType.Q8_0, tiedEmbeddings: true }, maxLogitDiff: 5e-3 },
  { name: "llama F32, Llama 3.1 RoPE scaling (rope_freqs)", spec: { ...SMALL, weightType: GgmlType.F32, ropeLlama3: LLAMA3_ROPE, ropeFreqBase: 500000 }, maxLogitDiff: 1e-3 },
  { name: "phi3 F32 (fused QKV and gate+up, partial rotary)", spec: { ...SMALL, architecture: "phi3", weightType: GgmlType.F32, ropeDimensionCount: 8 }, maxLogitDiff: 1e-3 },
  {
    name: "phi3 F32, LongRoPE short factors (context within the original)",
    spec: { ...SMALL, architecture: "phi3", weightType: GgmlType.F32, ropeDimensionCount: 8, longRope: longRope(4096) },
    maxLogitDiff: 1e-3,
  },
  {
    name: "phi3 F32, LongRoPE long factors (context beyond the original)",
    spec: { ...SMALL, architecture: "phi3", weightType: GgmlType.F32, ropeDimensionCount: 8, longRope: longRope(256) },
    maxLogitDiff: 1e-3,
  },
  {
    name: "gemma2 F32 (GeGLU, post-norms, soft-capping, sliding window 8 on even layers)",
    spec: { ...SMALL, architecture: "gemma2", weightType: GgmlType.F32, slidingWindow: 8, attnSoftCap: 5, finalSoftCap: 3 },
    maxLogitDiff: 1e-3,
  },
  {
    name: "gemma3 F32 (Q/K norms, 5 of 6 layers sliding with their own RoPE base)",
    spec: { ...SMALL, nLayer: 6, architecture: "gemma3", weightType: GgmlType.F32, slidingWindow: 8, ropeFreqBase: 1000000, ropeFreqBaseSwa: 10000 },
    maxLogitDiff: 1e-3,
  },
  { name: "gemma3 Q8_0, no sliding window", spec: { ...SMALL, architecture: "gemma3", weightType: GgmlType.Q8_0 }, maxLogitDiff: 5e-3 },
  { name: "phi3 Q8_0, separate Q/K/V", spec: { ...SMALL, architecture: "phi3", weightType: GgmlType.Q8_0, fusedQkv: false }, maxLogitDiff: 5e-3 },
];

const PROMPT = "once upon a time the little girl saw a big red ball and she said";
const N_GREEDY = 24;
/** On another llama.cpp CPU build than the emulated one, F32 and Q8_0 cases keep their bounds (syntheticConformance.test.ts) */
const build = referenceCpuBuild();
const exact = build === EMULATED_CPU_BUILD;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-architectures-"));
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await (await getReferenceLlama()).dispose();
});

const fileFor = (name: string) => path.join(dir, `${name.replace(/[^a-z0-9]+/gi, "_")}.gguf`);

const against = exact ? `llama.cpp (its ${build} CPU build, emulated exactly)` : `llama.cpp's ${build} CPU build`;
describe.each(KERNEL_PATHS)(`%s kernels: conformance with ${against} on more architectures`, (kernels) => {
  it.each(CASES)("$name: same greedy tokens and close logits", async ({ name, spec, maxLogitDiff }) => {
    const modelPath = fileFor(`${kernels} ${name}`);
    await writeSyntheticModel(modelPath, { weightScale: 2, ...spec });
    const ours = await runOurs(modelPath, PROMPT, N_GREEDY, backendFor(kernels));
    const reference = await referenceRun(modelPath, ours.promptTokens, N_GREEDY);
    const diff = maxAbsDiff(ours.lastLogits, reference.lastLogits);
    if (process.env.LAYERSTREAM_PRINT_DIFFS) console.log(`${kernels} ${name}: max |Δlogit| = ${diff.toExponential(2)}`);
    expect(ours.greedyTokens).toEqual(reference.greedyTokens);
    expect(diff).toBeLessThanOrEqual(maxLogitDiff);
  });
});

describe("an architecture we do not run", () => {
  it("is refused with one line naming it and listing the supported ones", async () => {
    const modelPath = fileFor("starcoder2");
    await writeSyntheticModel(modelPath, { ...SMALL, architecture: "starcoder2", weightType: GgmlType.F32 });
    let error: unknown;
    try {
      Model.open(modelPath).dispose();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedArchitectureError);
    const message = (error as Error).message;
    expect(message).toBe('unsupported architecture "starcoder2" (supported: llama, qwen2, qwen3, phi3, gemma2, gemma3)');
    expect(message).not.toContain("\n");
  });
});

describe("layerstream inspect", () => {
  const INSPECTED: [string, SyntheticModelSpec, string][] = [
    ["qwen3", { ...SMALL, architecture: "qwen3", weightType: GgmlType.F32 }, "NeoX RoPE, per-head Q/K RMS norms"],
    ["llama3", { ...SMALL, weightType: GgmlType.F32, ropeLlama3: LLAMA3_ROPE }, "normal RoPE, rope_freqs (Llama 3.1 RoPE scaling)"],
    [
      "phi3",
      { ...SMALL, architecture: "phi3", weightType: GgmlType.F32, ropeDimensionCount: 8, longRope: longRope(256) },
      "NeoX RoPE, fused gate+up (and Q/K/V) weights, rope_factors_short/long (LongRoPE)",
    ],
    ["gemma3", { ...SMALL, architecture: "gemma3", weightType: GgmlType.F32 }, "NeoX RoPE, per-head Q/K RMS norms, post-attention and post-feed-forward norms, GeGLU feed-forward"],
    ["starcoder2", { ...SMALL, architecture: "starcoder2", weightType: GgmlType.F32 }, "not supported (supported: llama, qwen2, qwen3, phi3, gemma2, gemma3)"],
  ];
  it.each(INSPECTED)("shows %s's architecture and its specifics", async (name, spec, features) => {
    const modelPath = fileFor(`inspect ${name}`);
    await writeSyntheticModel(modelPath, spec);
    using file = openGgufHeader(modelPath);
    const text = describeGguf(file);
    expect(text).toContain(`architecture  ${spec.architecture ?? "llama"}\n`);
    expect(text).toContain(`features      ${features}\n`);
    if (spec.ropeDimensionCount) expect(text).toMatch(/rope\.dimension_count\s+8\n/);
  });
});
