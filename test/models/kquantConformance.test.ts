/**
 * Conformance with llama.cpp on synthetic models in the lower K-quants (Q5_K, Q3_K, Q2_K), the
 * *_K_M-like mixes that pair them with a Q6_K head, IQ4_NL (32-value blocks, non-linear
 * codes) and IQ4_XS (its codes in 256-value super-blocks with 6-bit sub-block scales), written by
 * the project's own writer and quantizers. Same method and bounds as syntheticConformance.test.ts: greedy tokens equal and
 * last-position logits within the K-quant bound, on the native and the TypeScript kernels.
 * Q2_K's matrices all have a multiple of 8 rows, so llama.cpp's AVX-512 build multiplies them with
 * its repacked q2_K_8x8 gemv (decode) and gemm (the prompt), and so do we; likewise IQ4_NL's
 * iq4_nl_8x8. IQ4_XS's prompt (≥ 8 tokens) goes through llama.cpp's IQ panel gemm (iqp.cpp), its
 * last-position rows through vec_dot; with vec_dot for the prompt too, the logits differed by
 * 0.12. Measured on the emulated build: every case's logits equal llama.cpp's bit for bit
 * (max |Δlogit| = 0). LAYERSTREAM_REPORT_DIFFS=1 prints each case's difference.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { writeSyntheticModel, type SyntheticModelSpec } from "../../src/engine/gguf/syntheticModel.js";
import { referenceRun, getReferenceLlama, referenceCpuBuild, EMULATED_CPU_BUILD } from "../helpers/llamaCpp.js";
import { runOurs, maxAbsDiff } from "../helpers/ours.js";
import { KERNEL_PATHS, backendFor } from "../helpers/kernels.js";

const KQUANT = { nEmbd: 256, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 512, nVocab: 320, seed: 11 } as const;
/** syntheticConformance's bound for Q4_K and Q6_K */
const KQUANT_MAX_LOGIT_DIFF = 5e-3;

interface Case {
  readonly name: string;
  readonly spec: SyntheticModelSpec;
}

const CASES: Case[] = [
  { name: "llama Q5_K", spec: { ...KQUANT, weightType: GgmlType.Q5_K } },
  { name: "llama Q5_K_M-like mix (Q5_K + Q6_K head)", spec: { ...KQUANT, weightType: GgmlType.Q5_K, outputType: GgmlType.Q6_K } },
  { name: "llama Q3_K", spec: { ...KQUANT, weightType: GgmlType.Q3_K } },
  { name: "llama Q3_K_M-like mix (Q3_K + Q6_K head)", spec: { ...KQUANT, weightType: GgmlType.Q3_K, outputType: GgmlType.Q6_K } },
  { name: "llama Q2_K", spec: { ...KQUANT, weightType: GgmlType.Q2_K } },
  { name: "llama Q2_K mix (Q2_K + Q6_K head, Q4_K embeddings)", spec: { ...KQUANT, weightType: GgmlType.Q2_K, outputType: GgmlType.Q6_K, embdType: GgmlType.Q4_K } },
  { name: "llama IQ4_NL", spec: { ...KQUANT, weightType: GgmlType.IQ4_NL } },
  { name: "llama IQ4_NL + Q6_K head", spec: { ...KQUANT, weightType: GgmlType.IQ4_NL, outputType: GgmlType.Q6_K } },
  { name: "llama IQ4_XS", spec: { ...KQUANT, weightType: GgmlType.IQ4_XS } },
  { name: "llama IQ4_XS + Q6_K head", spec: { ...KQUANT, weightType: GgmlType.IQ4_XS, outputType: GgmlType.Q6_K } },
  { name: "llama IQ4_XS, tied embeddings", spec: { ...KQUANT, weightType: GgmlType.IQ4_XS, tiedEmbeddings: true } },
];

const PROMPT = "once upon a time the little girl saw a big red ball and she said";
const N_GREEDY = 24;

/**
 * Hosts where llama.cpp loads another CPU build than the emulated one (Intel with AMX): not
 * measured for these types; syntheticConformance's bounds for Q4_K/Q6_K there (AMX K-quant kernels).
 */
const OTHER_BUILD = { maxLogitDiff: 0.3, minAgreement: 1 };
const build = referenceCpuBuild();
const exact = build === EMULATED_CPU_BUILD;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-kquant-"));
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await (await getReferenceLlama()).dispose();
});

/** The first case of each weight type (its plain llama file), for the TypeScript kernels. */
const TYPESCRIPT_CASES = new Set(CASES.filter((c, i) => CASES.findIndex((d) => d.spec.weightType === c.spec.weightType) === i).map((c) => c.name));

const against = exact ? `llama.cpp (its ${build} CPU build, emulated exactly)` : `llama.cpp's ${build} CPU build (not the emulated ${EMULATED_CPU_BUILD}: looser bounds)`;
describe.each(KERNEL_PATHS)(`%s kernels: K-quant conformance with ${against} on synthetic models`, (kernels) => {
  // every case on the native kernels; the TypeScript ones (slow, and equal to the native kernels
  // bit for bit per type: test/engine/native) on one case per type
  it.each(CASES.filter((c) => kernels === "native" || TYPESCRIPT_CASES.has(c.name)))("$name: same greedy tokens and close logits", async ({ name, spec }) => {
    const modelPath = path.join(dir, `${kernels}_${name.replace(/[^a-z0-9]+/gi, "_")}.gguf`);
    await writeSyntheticModel(modelPath, { weightScale: 2, ...spec });
    const ours = await runOurs(modelPath, PROMPT, N_GREEDY, backendFor(kernels));
    const reference = await referenceRun(modelPath, ours.promptTokens, N_GREEDY);
    const minAgreement = exact ? N_GREEDY : OTHER_BUILD.minAgreement;
    expect(ours.greedyTokens.slice(0, minAgreement)).toEqual(reference.greedyTokens.slice(0, minAgreement));
    const diff = maxAbsDiff(ours.lastLogits, reference.lastLogits);
    if (process.env.LAYERSTREAM_REPORT_DIFFS) console.log(`${kernels} ${name}: max |Δlogit| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(exact ? KQUANT_MAX_LOGIT_DIFF : OTHER_BUILD.maxLogitDiff);
  });
});
