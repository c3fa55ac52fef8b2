/**
 * Models that parse but would run wrong: every hyper-parameter and special token id out of
 * range, a block count that disagrees with the tensors, NaN/Inf weights (refused with
 * checkTensors, and never sampled from without it), and a file changed while a model runs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model } from "../../../src/engine/model/model.js";
import { Session } from "../../../src/engine/session.js";
import { modelProblems } from "../../../src/engine/model/modelChecks.js";
import { openGgufHeader } from "../../../src/engine/gguf/header.js";
import { LayerstreamError } from "../../../src/engine/errors.js";
import { ModelFileChangedError } from "../../../src/engine/gguf/modelFile.js";
import { StreamingLayerSource } from "../../../src/engine/streaming/streamingLayerSource.js";
import { f32Bytes, patchTensorData, writeModel } from "../../helpers/hostileModels.js";
import type { GgufWriter } from "../../../src/engine/gguf/writer.js";

let dir: string;
let good: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-hostile-model-"));
  good = await writeModel(path.join(dir, "good.gguf"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The one-line LayerstreamError that opening `file` throws. */
function openError(file: string, options: Parameters<typeof Model.open>[1] = {}): LayerstreamError {
  try {
    Model.open(file, options).dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(LayerstreamError);
    expect((error as Error).message).not.toContain("\n");
    return error as LayerstreamError;
  }
  throw new Error(`${file} opened`);
}

const U32_MAX = 2 ** 32 - 1;

describe("hyper-parameters and token ids are range-checked at load", () => {
  it.each([
    ["rope.freq_base 0", { ropeFreqBase: 0 }, undefined, /llama\.rope\.freq_base = 0 must be a finite number > 0/],
    ["rope.freq_base NaN", { ropeFreqBase: NaN }, undefined, /llama\.rope\.freq_base = NaN must be a finite number > 0/],
    ["context_length 2^32 − 1", { nCtxTrain: U32_MAX }, undefined, /llama\.context_length = 4294967295 must be an integer in \[1, 16777216\]/],
    ["rms epsilon 0", { rmsEps: 0 }, undefined, /layer_norm_rms_epsilon = 0 must be in \(0, 1\)/],
    ["block_count 0", {}, (w: GgufWriter) => w.setUint32("llama.block_count", 0), /llama\.block_count = 0 must be an integer in \[1, 4096\]/],
    ["block_count 4 on a file with 5 layers", { nLayer: 5 }, (w: GgufWriter) => w.setUint32("llama.block_count", 4), /block_count is 4 but the file has tensors of block 4 \("blk\.4\./],
    ["head_count 2^32 − 1", {}, (w: GgufWriter) => w.setUint32("llama.attention.head_count", U32_MAX), /head_count = 4294967295 must be an integer in \[1, 65535\]/],
    ["BOS beyond the vocabulary", {}, (w: GgufWriter) => w.setUint32("tokenizer.ggml.bos_token_id", 300), /tokenizer\.ggml\.bos_token_id = 300 is outside the vocabulary \[0, 300\)/],
    ["EOS beyond the vocabulary", {}, (w: GgufWriter) => w.setUint32("tokenizer.ggml.eos_token_id", 70000), /tokenizer\.ggml\.eos_token_id = 70000 is outside the vocabulary \[0, 300\)/],
    ["a vocabulary larger than the embeddings", {}, (w: GgufWriter) => w.setArray("tokenizer.ggml.tokens", 8, [...Array.from({ length: 301 }, (_, i) => `t${i}`)]), /vocabulary has 301 tokens but token_embd\.weight has 300 rows|scores has 300 entries for 301 tokens/],
  ] as const)("%s", async (name, spec, edit, message) => {
    const file = await writeModel(path.join(dir, `${name.replace(/\W+/g, "-")}.gguf`), spec, edit as never);
    expect(openError(file).message).toMatch(message);
    using header = openGgufHeader(file);
    expect(modelProblems(header).join("\n")).toMatch(message); // inspect's "would refuse"
  });

  it("a token id of -1 (u32 0xffffffff: \"none\", as converters write it) is not an error", async () => {
    const file = await writeModel(path.join(dir, "none.gguf"), {}, (w: GgufWriter) => w.setUint32("tokenizer.ggml.padding_token_id", U32_MAX));
    Model.open(file).dispose();
  });

  it("a context size beyond 2^24 is refused with one line, not a RangeError from the kernels", () => {
    expect(openError(good, { contextSize: 1e15 }).message).toMatch(/context size 1000000000000000 must be an integer in \[1, 16777216\]/);
  });

  it("lists every problem, not just the first", async () => {
    const file = await writeModel(path.join(dir, "many.gguf"), { nLayer: 3 }, (w) => {
      w.setUint32("llama.block_count", 2);
      w.setUint32("tokenizer.ggml.eos_token_id", 1000);
    });
    using header = openGgufHeader(file);
    const problems = modelProblems(header);
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).toMatch(/eos_token_id = 1000/);
    expect(problems.join("\n")).toMatch(/block_count is 2/);
  });
});

describe("positions from a peer", () => {
  it("a batch far past its sequence's cache (or its context) is refused at once, before any work", async () => {
    using model = Model.open(good, { contextSize: 64 });
    await using runner = model.createLocalRunner();
    const batch = (position: number) => [{ sequenceId: 0, position, nTokens: 2, hidden: new Float32Array(2 * 64).fill(0.1) }];
    const started = performance.now();
    await expect(runner.run(batch(2 ** 25), { from: 0, to: 2 })).rejects.toThrow(/sequence 0: positions \[33554432, 33554434\) are outside the context of 64/);
    await expect(runner.run(batch(10), { from: 0, to: 2 })).rejects.toThrow(/sequence 0 holds 0 positions at layer 0, cannot continue at position 10/);
    expect(performance.now() - started).toBeLessThan(1000);
    await runner.run(batch(0), { from: 0, to: 2 });
    await runner.run(batch(2), { from: 0, to: 2 });
    await runner.run(batch(1), { from: 0, to: 2 }); // rewinding is fine
  });
});

describe("NaN and Inf weights", () => {
  it.each([
    ["NaN in an f32 norm", "blk.1.attn_norm.weight", 8, f32Bytes(NaN), "NaN", 2],
    ["Inf in a Q8_0 block scale", "blk.0.ffn_down.weight", 34 * 3, new Uint8Array([0x00, 0x7c]), "Inf", 96],
  ])("%s: checkTensors refuses the file naming the tensor; without it generation fails instead of sampling garbage", async (name, tensor, at, bytes, kind, element) => {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.gguf`);
    fs.copyFileSync(good, file);
    patchTensorData(file, tensor, at, bytes);
    const error = openError(file, { checkTensors: true });
    expect(error.code).toBe("NON_FINITE_WEIGHTS");
    expect(error.message).toMatch(new RegExp(`tensor "${tensor.replace(/\./g, "\\.")}" holds ${kind} \\(element ${element} of \\d+\\)`));
    Model.open(good, { checkTensors: true }).dispose();

    // without checkTensors: a norm is decoded (and checked) when its layer is loaded; a NaN that reaches the logits stops generation
    using model = Model.open(file);
    const generation = async () => {
      await using runner = model.createLocalRunner();
      await new Session(model, runner).evaluate([1, 40, 41, 42]);
    };
    await expect(generation()).rejects.toThrow(new RegExp(`tensor "${tensor.replace(/\./g, "\\.")}" holds NaN|the model computed a NaN logit .*--check-tensors names the tensor`));
  });
});

describe("a model file changed while in use", () => {
  it("resident layers: the next use after a truncation is a ModelFileChangedError naming the file", async () => {
    const file = path.join(dir, "resident.gguf");
    fs.copyFileSync(good, file);
    using model = Model.open(file);
    await using runner = model.createLocalRunner();
    const session = new Session(model, runner);
    await session.evaluate([1, 40]);
    fs.truncateSync(file, 4096);
    await expect(session.evaluate([41])).rejects.toThrow(ModelFileChangedError);
    await expect(session.evaluate([41])).rejects.toThrow(new RegExp(`model file ${file} changed on disk while in use \\(size \\d+ → 4096 bytes\\)`));
  });

  it("streamed layers: a truncation makes the next read fail with ModelFileChangedError, not a short read", async () => {
    const file = path.join(dir, "streamed.gguf");
    fs.copyFileSync(good, file);
    using model = Model.open(file);
    await using source = await StreamingLayerSource.open(file, model.layers, { budgetBytes: model.layers[0].nBytes, prefetchDepth: 0, stamp: model.watch.stamp });
    await source.acquire(0);
    source.release(0);
    fs.truncateSync(file, model.layers[1].all[0].fileOffset + 10);
    await expect(source.acquire(1)).rejects.toThrow(/changed on disk while in use \(size \d+ → \d+ bytes\)/);
  });

  it("a streaming source opened after the file was replaced is refused (it would read another file than the model)", async () => {
    const file = path.join(dir, "replaced.gguf");
    fs.copyFileSync(good, file);
    using model = Model.open(file);
    fs.copyFileSync(good, `${file}.new`);
    fs.renameSync(`${file}.new`, file);
    await expect(StreamingLayerSource.open(file, model.layers, { budgetBytes: 1 << 30, prefetchDepth: 0, stamp: model.watch.stamp })).rejects.toThrow(/replaced: inode/);
  });
});
