import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { Model } from "../../../src/engine/model/model.js";
import { Session } from "../../../src/engine/session.js";
import { StreamingLayerSource } from "../../../src/engine/streaming/streamingLayerSource.js";
import { parseByteSize, formatBytes } from "../../../src/engine/streaming/byteSize.js";
import { writeSyntheticModel } from "../../../src/engine/gguf/syntheticModel.js";
import { modelFile } from "../../helpers/paths.js";

let dir: string;
let modelPath: string;
const N_LAYER = 6;
const TOKENS = [1, 40, 41, 42, 43, 44, 45];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-stream-"));
  modelPath = path.join(dir, "model.gguf");
  await writeSyntheticModel(modelPath, { nEmbd: 64, nLayer: N_LAYER, nHead: 4, nHeadKv: 2, nFf: 128, nVocab: 300, weightType: GgmlType.Q4_0, seed: 5, weightScale: 2 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Logits after the prompt and after 5 greedy steps, with the given source (or all resident). */
async function runWith(model: Model, source?: StreamingLayerSource) {
  await using runner = model.createLocalRunner(source);
  const session = new Session(model, runner);
  const out: number[][] = [];
  let logits = await session.evaluate(TOKENS);
  for (let step = 0; step < 5; step++) {
    out.push(Array.from(logits));
    logits = await session.evaluate([logits.indexOf(Math.max(...logits))]);
  }
  return out;
}

describe("StreamingLayerSource", () => {
  it.each([
    ["one layer, no prefetch (AirLLM-style)", 1, 0],
    ["two layers, prefetch 1", 2, 1],
    ["half the layers, prefetch 2", 3, 2],
    ["all layers", N_LAYER, 3],
  ])("gives exactly the resident logits with a budget of %s", async (_name, nLayersInBudget, prefetchDepth) => {
    using model = Model.open(modelPath, { access: "read" });
    const layerBytes = model.layers[0].nBytes;
    const resident = await runWith(model);
    const source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: nLayersInBudget * layerBytes, prefetchDepth });
    const streamed = await runWith(model, source);
    expect(streamed).toEqual(resident);
    const stats = source.snapshot();
    expect(stats.peakResidentBytes).toBeLessThanOrEqual(nLayersInBudget * layerBytes);
    expect(stats.bytesRead % layerBytes).toBe(0); // whole layers only
    expect(stats.bytesRead).toBe(stats.cacheMisses * layerBytes); // a miss is one block read, ahead or on demand
  });

  it("with the whole model in budget, reads each layer once and then only hits", async () => {
    using model = Model.open(modelPath, { access: "read" });
    const source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: 100 << 20, prefetchDepth: 2 });
    await runWith(model, source);
    const stats = source.snapshot();
    expect(stats.bytesRead).toBe(model.layers.reduce((n, l) => n + l.nBytes, 0));
    expect(stats.cacheHits + stats.cacheMisses).toBe(6 * N_LAYER); // prompt + 5 decode steps
    expect(stats.cacheMisses).toBe(N_LAYER); // each layer read once (all but the first ahead of use), then only hits
    expect(stats.cacheHits).toBe(5 * N_LAYER);
    expect(stats.readBusySeconds).toBeGreaterThan(0);
    expect(stats.readBusySeconds).toBeGreaterThanOrEqual(stats.ioWaitSeconds - 0.01); // waiting means a read is in flight
  });

  it("keeps a stable resident set: with room for k of n layers, about k of n accesses hit", async () => {
    using model = Model.open(modelPath, { access: "read" });
    const layerBytes = model.layers[0].nBytes;
    const source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: 4 * layerBytes, prefetchDepth: 0 });
    await runWith(model, source);
    const { cacheHits, cacheMisses } = source.snapshot();
    // LRU would miss every access of a 6-layer cycle in a 4-layer cache; next-use eviction keeps 3 resident
    expect(cacheHits / (cacheHits + cacheMisses)).toBeGreaterThan(0.4);
  });

  it("refuses a budget smaller than one layer, naming the minimum", async () => {
    using model = Model.open(modelPath, { access: "read" });
    const minimum = StreamingLayerSource.minimumBudget(model.layers);
    await expect(StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: minimum - 1, prefetchDepth: 0 })).rejects.toThrow(
      new RegExp(`largest needs ${formatBytes(minimum).replace(".", "\\.")}`),
    );
  });

  it("streams a real model token-identically", async () => {
    const real = modelFile("stories260K.gguf");
    using model = Model.open(real, { access: "read" });
    const resident = await runWith(model);
    const source = await StreamingLayerSource.open(real, model.layers, { budgetBytes: StreamingLayerSource.minimumBudget(model.layers) * 2, prefetchDepth: 1 });
    expect(await runWith(model, source)).toEqual(resident);
  });
});

describe("parseByteSize", () => {
  it.each([
    ["512MB", 512 * 2 ** 20],
    ["4GB", 4 * 2 ** 30],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["100k", 102400],
    ["12345", 12345],
  ])("%s", (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(["", "12XB", "-5MB", "MB", "1e9"])("rejects %j", (text) => expect(() => parseByteSize(text)).toThrow(/cannot read/));
});

describe("several sequences through one load", () => {
  it("one call over several sequences applies each streamed layer to all of them: same results, one read per layer", async () => {
    using model = Model.open(modelPath, { access: "read" });
    const { nEmbd } = model.hparams;
    const prompts = [TOKENS, [1, 50, 51], [1, 60, 61, 62, 63]];
    const embed = (tokens: number[]) => {
      const hidden = new Float32Array(tokens.length * nEmbd);
      model.embed(tokens, hidden);
      return hidden;
    };
    await using alone = model.createLocalRunner();
    const separate = [];
    for (const [i, tokens] of prompts.entries()) {
      const [last] = await alone.run([{ sequenceId: i, position: 0, nTokens: tokens.length, hidden: embed(tokens) }], { from: 0, to: N_LAYER });
      separate.push(Array.from(last));
    }
    const layerBytes = model.layers[0].nBytes;
    const source = await StreamingLayerSource.open(modelPath, model.layers, { budgetBytes: layerBytes, prefetchDepth: 0 });
    await using runner = model.createLocalRunner(source);
    const batches = prompts.map((tokens, i) => ({ sequenceId: i, position: 0, nTokens: tokens.length, hidden: embed(tokens) }));
    const together = await runner.run(batches, { from: 0, to: N_LAYER });
    expect(together.map((h) => Array.from(h))).toEqual(separate);
    expect(source.snapshot().bytesRead).toBe(N_LAYER * layerBytes);
  });
});
