/**
 * `--flash-attn`: greedy output and last-position logits equal llama.cpp's with flash attention
 * on (node-llama-cpp, `flashAttention: true`), on every real GGUF in the repository, for prompts
 * that take each of ggml's paths: short batches and decode (one chunk, half accumulation), a
 * prompt of ≥ 64 tokens (tiled), and a prompt past 256 positions, whose decode steps attend over
 * n_kv = 512 cells (split KV, one chunk per thread: llama.cpp runs with our backend's thread count).
 * The tiled path keeps the query in f32, so it also checks RoPE to the last bit (ggml's tables use
 * glibc's sinf/cosf, see glibcSinCosf.ts).
 */
import { afterAll, describe, expect, it } from "vitest";
import { KERNEL_PATHS, backendFor } from "../helpers/kernels.js";
import { runOurs, maxAbsDiff } from "../helpers/ours.js";
import { Model } from "../../src/engine/model/model.js";
import { modelFile } from "../helpers/paths.js";
import { EMULATED_CPU_BUILD, referenceCpuBuild, referenceRun } from "../helpers/llamaCpp.js";

const MODELS = ["stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "TinyStories-656K-F32.gguf", "TinyStories-656K-Q4_0.gguf"];
const STORY =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree. She ran to the ball and picked it up.";
const PROMPTS = [
  "The little dog ran to the",
  "Lily and Tom were best friends. One day, they",
  `${STORY} Her mom said`,
];

/** A prompt of 260–470 of the model's tokens (whole stories), so that decode attends over n_kv = 512 cells. */
function pastTwoFiftySix(file: string): string {
  using model = Model.open(modelFile(file));
  let prompt = STORY;
  while (model.tokenizer.encode(prompt, { addSpecial: true, parseSpecial: false }).length <= 260) prompt = `${prompt} ${STORY}`;
  return `${prompt} Then the sun went down and`;
}
const N_GREEDY = 32;
/**
 * On hosts where llama.cpp loads another CPU build than the emulated one, its kernels round
 * differently (see conformance.test.ts): there, logits within 5e-2 and the first 8 greedy tokens;
 * after a prompt past 256 positions the differences add up (measured on such a host: 0.12, Q8_0),
 * so within 0.25 there.
 */
const exact = referenceCpuBuild() === EMULATED_CPU_BUILD;
const OTHER_BUILD_MAX_LOGIT_DIFF = 5e-2;
const OTHER_BUILD_MAX_LOGIT_DIFF_LONG = 0.25;

/** Greedy tokens equal (llama.cpp stops at end-of-sequence; ours runs on: its prefix must match). */
function expectSameGreedy(ours: readonly number[], reference: readonly number[], n: number): void {
  expect(reference.length).toBeGreaterThanOrEqual(Math.min(n, 8));
  expect(ours.slice(0, Math.min(n, reference.length))).toEqual(reference.slice(0, n));
}

async function compare(kernels: (typeof KERNEL_PATHS)[number], file: string, prompt: string, batchSize: number, maxDiff: number, otherBuildMaxDiff = OTHER_BUILD_MAX_LOGIT_DIFF): Promise<void> {
  const backend = backendFor(kernels);
  const ours = await runOurs(modelFile(file), prompt, N_GREEDY, backend, true, batchSize);
  const reference = await referenceRun(modelFile(file), ours.promptTokens, N_GREEDY, batchSize, { flashAttention: true, threads: backend.threads });
  expectSameGreedy(ours.greedyTokens, reference.greedyTokens, exact ? N_GREEDY : 8);
  expect(maxAbsDiff(ours.lastLogits, reference.lastLogits)).toBeLessThanOrEqual(exact ? maxDiff : otherBuildMaxDiff);
}

/** Native kernels on every model; the TypeScript reference (which the native kernels equal bit for bit) on the first. */
const CASES = KERNEL_PATHS.flatMap((kernels) => MODELS.filter((_, i) => kernels === "native" || i === 0).map((file) => [kernels, file] as const));

describe.each(CASES)("%s kernels, --flash-attn on %s", (kernels, file) => {
  it.each(PROMPTS.map((p) => [p.length > 60 ? `${p.slice(0, 40)}… (${p.length} chars)` : p, p] as const))("%s: llama.cpp -fa on's greedy tokens and logits, bit for bit", async (_label, prompt) => {
    await compare(kernels, file, prompt, 512, 0);
  });

});

/** The TypeScript kernels (slow on ~300-token prompts) take it on one model; the native ones on all. */
const LONG_CASES = KERNEL_PATHS.flatMap((kernels) => MODELS.filter((file, i) => kernels === "native" || i === 0).map((file) => [kernels, file] as const));

describe.each(LONG_CASES)("%s kernels, --flash-attn on %s, a prompt past 256 positions", (kernels, file) => {
  it("split-KV decode steps; in one batch and in batches of 64 (tiled and one-chunk rows mixed)", async () => {
    const prompt = pastTwoFiftySix(file);
    await compare(kernels, file, prompt, 512, 0, OTHER_BUILD_MAX_LOGIT_DIFF_LONG);
    await compare(kernels, file, prompt, 64, 0, OTHER_BUILD_MAX_LOGIT_DIFF_LONG);
  });
});

afterAll(async () => {
  const { getReferenceLlama } = await import("../helpers/llamaCpp.js");
  await (await getReferenceLlama()).dispose();
});
