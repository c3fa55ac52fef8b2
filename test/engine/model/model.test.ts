/** The forward pass on synthetic models: layer ranges, batching, hyper-parameter checks. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../../src/engine/ggml/types.js";
import { Model } from "../../../src/engine/model/model.js";
import { ResidentLayerSource } from "../../../src/engine/model/layerSource.js";
import { Session } from "../../../src/engine/session.js";
import { generate } from "../../../src/engine/generate.js";
import { writeSyntheticModel, buildSyntheticModel, type SyntheticModelSpec } from "../../../src/engine/gguf/syntheticModel.js";
import { maxAbsDiff } from "../../helpers/ours.js";
import { LayerstreamError } from "../../../src/engine/errors.js";

const SPEC: SyntheticModelSpec = { nEmbd: 64, nLayer: 4, nHead: 4, nHeadKv: 2, nFf: 128, nVocab: 300, weightType: GgmlType.Q8_0, seed: 3, weightScale: 2 };
let dir: string;
let modelPath: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-model-"));
  modelPath = path.join(dir, "model.gguf");
  await writeSyntheticModel(modelPath, SPEC);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TOKENS = [1, 40, 41, 42, 43, 44, 45, 46, 47];

describe("LocalLayerRunner", () => {
  it("running layers [0,k) then [k,n) equals running [0,n)", async () => {
    using model = Model.open(modelPath);
    const { nEmbd, nLayer } = model.hparams;
    const hidden = new Float32Array(TOKENS.length * nEmbd);
    model.embed(TOKENS, hidden);
    await using whole = model.createLocalRunner();
    await using split = model.createLocalRunner();
    const batch = (h: Float32Array) => [{ sequenceId: 0, position: 0, nTokens: TOKENS.length, hidden: h }];
    const [a] = await whole.run(batch(Float32Array.from(hidden)), { from: 0, to: nLayer }, { rows: "all" });
    const [mid] = await split.run(batch(Float32Array.from(hidden)), { from: 0, to: 1 }, { rows: "all" });
    const [b] = await split.run(batch(Float32Array.from(mid)), { from: 1, to: nLayer }, { rows: "all" });
    expect(Array.from(b)).toEqual(Array.from(a));
    // "last" returns the last row only, the same values as the last of "all"
    const [last] = await split.run(batch(Float32Array.from(hidden)), { from: 0, to: 2 }, { rows: "last" });
    const [allRows] = await whole.run(batch(Float32Array.from(hidden)), { from: 0, to: 2 }, { rows: "all" });
    expect(Array.from(last)).toEqual(Array.from(allRows.subarray((TOKENS.length - 1) * nEmbd)));
  });

  it("keeps sequences apart", async () => {
    using model = Model.open(modelPath);
    await using runner = model.createLocalRunner();
    const one = new Session(model, runner, 1);
    const two = new Session(model, runner, 2);
    const alone = Float32Array.from(await one.evaluate(TOKENS));
    await two.evaluate([1, 99, 98, 97]);
    await one.rewind(0);
    expect(Array.from(await one.evaluate(TOKENS))).toEqual(Array.from(alone));
  });

  it("rejects a layer range outside the model", async () => {
    using model = Model.open(modelPath);
    await using runner = model.createLocalRunner();
    const hidden = new Float32Array(model.hparams.nEmbd);
    await expect(runner.run([{ sequenceId: 0, position: 0, nTokens: 1, hidden }], { from: 0, to: 99 })).rejects.toThrow(/outside/);
  });
});

describe("Session", () => {
  it("a batched prompt gives the same logits as feeding it token by token", async () => {
    using model = Model.open(modelPath);
    await using runner = model.createLocalRunner();
    const batched = Float32Array.from(await new Session(model, runner, 0).evaluate(TOKENS));
    const oneByOne = new Session(model, runner, 1, { batchSize: 1 });
    let logits: Float32Array = new Float32Array();
    for (const t of TOKENS) logits = await oneByOne.evaluate([t]);
    expect(maxAbsDiff(batched, logits)).toBeLessThan(1e-3);
  });

  it("splits prompts longer than the batch size into chunks with the same result", async () => {
    using model = Model.open(modelPath);
    await using runner = model.createLocalRunner();
    const whole = Float32Array.from(await new Session(model, runner, 0, { batchSize: 512 }).evaluate(TOKENS));
    const chunked = await new Session(model, runner, 1, { batchSize: 4 }).evaluate(TOKENS);
    expect(maxAbsDiff(whole, chunked)).toBeLessThan(1e-3);
  });

  it("refuses tokens outside the vocabulary and prompts longer than the context", async () => {
    using model = Model.open(modelPath, { contextSize: 8 });
    await using runner = model.createLocalRunner();
    await expect(new Session(model, runner, 0).evaluate([1, 300])).rejects.toThrow(/outside the vocabulary/);
    await expect(new Session(model, runner, 1).evaluate(TOKENS)).rejects.toThrow(/context is full/);
  });
});

describe("generate", () => {
  const argmaxSampler = { sample: (logits: Float32Array) => logits.indexOf(Math.max(...logits)) };

  it("stops at maxTokens, at the context size, and on abort", async () => {
    using model = Model.open(modelPath, { contextSize: 12 });
    await using runner = model.createLocalRunner();
    const count = async (maxTokens: number, sequenceId: number, signal?: AbortSignal) => {
      const it = generate(new Session(model, runner, sequenceId), [1, 40, 41], { maxTokens, sampler: argmaxSampler, ignoreEos: true, signal });
      let r = await it.next();
      while (!r.done) r = await it.next();
      return r.value;
    };
    expect(await count(5, 0)).toMatchObject({ generatedTokens: 5, stopReason: "max-tokens" });
    const full = await count(50, 1);
    expect(full.stopReason).toBe("context-full");
    expect(full.generatedTokens).toBe(12 - 3 + 1);
    const aborted = new AbortController();
    aborted.abort();
    expect(await count(5, 2, aborted.signal)).toMatchObject({ generatedTokens: 0, stopReason: "aborted" });
  });

  it("stops at end-of-sequence unless told to ignore it", async () => {
    using model = Model.open(modelPath);
    await using runner = model.createLocalRunner();
    const eosSampler = { sample: () => 2 };
    const it = generate(new Session(model, runner, 0), [1, 40], { maxTokens: 5, sampler: eosSampler });
    let r = await it.next();
    expect(r.done).toBe(true);
    expect(r.value).toMatchObject({ generatedTokens: 0, stopReason: "eos" });
    const ignoring = generate(new Session(model, runner, 1), [1, 40], { maxTokens: 3, sampler: eosSampler, ignoreEos: true });
    const tokens = [];
    for await (const piece of ignoring) tokens.push(piece.token);
    expect(tokens).toEqual([2, 2, 2]);
  });
});

describe("model checks", () => {
  async function openWith(spec: Partial<SyntheticModelSpec>, edit?: (w: ReturnType<typeof buildSyntheticModel>) => void) {
    const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.gguf`);
    const writer = buildSyntheticModel({ ...SPEC, nLayer: 1, ...spec });
    edit?.(writer);
    await writer.writeFile(file);
    return () => Model.open(file);
  }

  it("names an unsupported architecture and the supported ones", async () => {
    const open = await openWith({ architecture: "mamba" });
    expect(open).toThrow(LayerstreamError);
    expect(open).toThrow('unsupported architecture "mamba" (supported: llama, qwen2, qwen3, phi3, gemma2, gemma3)');
  });

  it("rejects head counts that do not divide", async () => {
    const open = await openWith({}, (w) => w.setUint32("llama.attention.head_count_kv", 3));
    expect(open).toThrow(/head_count_kv 3 must divide head_count 4/);
  });

  it("names a missing tensor", async () => {
    const file = path.join(dir, "missing.gguf");
    const full = buildSyntheticModel({ ...SPEC, nLayer: 1 });
    const { GgufWriter } = await import("../../../src/engine/gguf/writer.js");
    const { openGguf } = await import("../../../src/engine/gguf/reader.js");
    const source = path.join(dir, "source.gguf");
    await full.writeFile(source);
    using src = openGguf(source);
    const writer = new GgufWriter();
    for (const entry of src.metadata.values()) writer.setEntry(entry);
    for (const t of src.tensors) if (t.name !== "blk.0.ffn_up.weight") writer.addTensor(t.name, t.dims, t.type, src.bytes.subarray(t.fileOffset, t.fileOffset + t.nBytes));
    await writer.writeFile(file);
    expect(() => Model.open(file)).toThrow('missing tensor "blk.0.ffn_up.weight"');
  });

  it("rejects a tensor of the wrong shape", async () => {
    const open = await openWith({}, (w) => w.setUint32("llama.embedding_length", 128));
    expect(open).toThrow(/tensor "token_embd.weight" has shape \[64, 300\], expected \[128, 300\]/);
  });
});

describe("file access", () => {
  it("reading tensors into owned buffers gives the same logits as the memory map", async () => {
    const logitsWith = async (access: "mmap" | "read") => {
      using model = Model.open(modelPath, { access });
      await using runner = model.createLocalRunner();
      return Float32Array.from(await new Session(model, runner).evaluate(TOKENS));
    };
    expect(Array.from(await logitsWith("read"))).toEqual(Array.from(await logitsWith("mmap")));
  });

  it("read access loads every block when the resident runner is made, not on first use", () => {
    const model = Model.open(modelPath, { access: "read" });
    const source = model.residentLayers();
    model.dispose(); // closes the file: a block read lazily now would fail
    for (let il = 0; il < SPEC.nLayer; il++) expect(source.acquire(il).ffnDown.bytes.length).toBeGreaterThan(0);
    const lazy = Model.open(modelPath, { access: "read" });
    const lazySource = new ResidentLayerSource(lazy.layers, lazy.tensorBytes, lazy.access);
    lazy.dispose();
    expect(() => lazySource.acquire(0)).toThrow();
  });
});
