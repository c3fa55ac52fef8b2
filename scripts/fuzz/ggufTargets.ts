/**
 * The entry points a mutated GGUF file goes through, each classified as the CLI would: a
 * `LayerstreamError` (or a commander usage error) is a clean refusal, no error is "accepted",
 * anything else is a crash (the CLI's "internal error", exit 1).
 *
 * - parse: `parseGguf` on the bytes;
 * - header: `openGgufHeader` on the file;
 * - model: `Model.open` (with `checkTensors` one time in four) and a short greedy generation,
 *   one time in four with the layers streamed through a small budget instead of resident;
 * - inspect: the `inspect --json` command (in-process, the real command object).
 */
import fs from "node:fs";
import { CommanderError } from "commander";
import { parseGguf } from "../../src/engine/gguf/parse.js";
import { openGgufHeader } from "../../src/engine/gguf/header.js";
import { Model } from "../../src/engine/model/model.js";
import { Session } from "../../src/engine/session.js";
import { generate } from "../../src/engine/generate.js";
import { StreamingLayerSource } from "../../src/engine/streaming/streamingLayerSource.js";
import { LayerstreamError } from "../../src/engine/errors.js";
import type { ComputeBackend } from "../../src/engine/backend/computeBackend.js";
import { buildProgram } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";

export type Outcome = { readonly kind: "clean"; readonly code: string } | { readonly kind: "accepted" } | { readonly kind: "crash"; readonly error: string };
export const GGUF_TARGETS = ["parse", "header", "model", "inspect"] as const;
export type GgufTarget = (typeof GGUF_TARGETS)[number];

/** How an error ends in the CLI: clean (exit 2 with one line) or a crash (exit 1, "internal error"). */
export function classify(error: unknown): Outcome {
  if (error instanceof LayerstreamError) return { kind: "clean", code: error.code };
  if (error instanceof CommanderError) return { kind: "clean", code: error.code };
  return { kind: "crash", error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ""}` : String(error) };
}

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return { kind: "accepted" };
  } catch (error) {
    return classify(error);
  }
}

const SILENT_IO: CliIo = { writeOut: () => {}, writeErr: () => {}, progress: () => {} };

/** Runs every entry point on one mutated file (written to `file` first). */
export async function runGgufTargets(bytes: Uint8Array, file: string, backend: ComputeBackend, variant: number): Promise<Record<GgufTarget, Outcome>> {
  fs.writeFileSync(file, bytes);
  return {
    parse: await outcomeOf(() => parseGguf(bytes)),
    header: await outcomeOf(() => openGgufHeader(file).dispose()),
    model: await outcomeOf(() => openAndGenerate(file, backend, variant)),
    inspect: await outcomeOf(() => buildProgram(SILENT_IO).exitOverride().parseAsync(["inspect", file, "--json"], { from: "user" })),
  };
}

/** Model.open and four greedy tokens (two of prompt, two generated), resident or streamed. */
async function openAndGenerate(file: string, backend: ComputeBackend, variant: number): Promise<void> {
  using model = Model.open(file, { backend, contextSize: 32, checkTensors: variant % 4 === 1 });
  const source = variant % 4 === 2 ? await StreamingLayerSource.open(file, model.layers, { budgetBytes: 2 * StreamingLayerSource.minimumBudget(model.layers), prefetchDepth: 1, stamp: model.watch.stamp }) : undefined;
  await using runner = model.createLocalRunner(source);
  try {
    const prompt = model.tokenizer.encode("Once upon", { addSpecial: true, parseSpecial: false }).slice(0, 2);
    const sampler = { sample: (logits: Float32Array) => argmax(logits) };
    const pieces = generate(new Session(model, runner), prompt.length > 0 ? prompt : [0], { maxTokens: 2, sampler, ignoreEos: true });
    for await (const piece of pieces) model.tokenizer.decode([piece.token < 0 ? 0 : piece.token]);
  } finally {
    await source?.[Symbol.asyncDispose]();
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
