import { describe, expect, it, beforeAll, afterAll } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { modelFile } from "../helpers/paths.js";
import { runCli } from "../helpers/cli.js";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";

const STORIES_260K = modelFile("stories260K.gguf");
const LLAMA_CPP_TEXT = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-cli-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** stderr holds exactly one line, a layerstream or commander error, with no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("layerstream generate", () => {
  it("prints the same greedy text as llama.cpp for stories260K, and only the continuation", async () => {
    const { code, stdout } = await runCli(["generate", "--model", STORIES_260K, "--prompt", "Once upon a time", "--max-tokens", "40", "--temperature", "0"]);
    expect(code).toBe(0);
    expect(stdout).toBe(LLAMA_CPP_TEXT + "\n");
  });

  it("ends stderr with a JSON stats object under --stats-json", async () => {
    const { code, stderr } = await runCli(["generate", "-m", STORIES_260K, "-p", "Once upon a time", "-n", "8", "--temperature", "0", "--stats-json"]);
    expect(code).toBe(0);
    const stats = JSON.parse(stderr.trim().split("\n").at(-1)!);
    expect(stats).toMatchObject({ promptTokens: 5, generatedTokens: 8 });
    for (const key of ["promptTokensPerSecond", "generatedTokensPerSecond", "loadSeconds", "peakRssBytes"]) {
      expect(stats[key]).toBeTypeOf("number");
      expect(stats[key]).toBeGreaterThan(0);
    }
  });

  it("gives the same text for the same seed and a different text for another seed", async () => {
    const args = (seed: string) => ["generate", "-m", STORIES_260K, "-p", "Once upon a time", "-n", "30", "--temperature", "1", "--seed", seed];
    const [a, b, c] = await Promise.all([runCli(args("42")), runCli(args("42")), runCli(args("43"))]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
  });

  it("stops at the end-of-sequence token unless --ignore-eos", async () => {
    const tinyStories = modelFile("TinyStories-656K-F32.gguf"); // ends its story with EOS
    const base = ["generate", "-m", tinyStories, "-p", "Once upon a time", "-n", "400", "--temperature", "0", "--stats-json"];
    const stopped = JSON.parse((await runCli(base)).stderr.trim().split("\n").at(-1)!);
    const ignored = JSON.parse((await runCli([...base, "--ignore-eos"])).stderr.trim().split("\n").at(-1)!);
    expect(stopped.stopReason).toBe("eos");
    expect(stopped.generatedTokens).toBeLessThan(400);
    expect(ignored.generatedTokens).toBe(400);
  });
});

describe("layerstream generate --max-memory (layer streaming)", () => {
  it("prints the same text with a budget far below the model, and reports cache statistics", async () => {
    const { code, stdout, stderr } = await runCli([
      "generate", "-m", STORIES_260K, "-p", "Once upon a time", "-n", "40", "--temperature", "0", "--max-memory", "700KB", "--stats-json",
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe(LLAMA_CPP_TEXT + "\n");
    const stats = JSON.parse(stderr.trim().split("\n").at(-1)!);
    expect(stats.budgetBytes).toBe(700 * 1024);
    // 5 layers × (1 prompt batch + 39 decode steps) uses, each a hit or a miss, plus at most one
    // miss for the read-ahead (prefetch 1) of a next token that was never generated
    expect(stats.cacheHits + stats.cacheMisses - 5 * 40).toBeGreaterThanOrEqual(0);
    expect(stats.cacheHits + stats.cacheMisses - 5 * 40).toBeLessThanOrEqual(1);
    expect(stats.bytesRead).toBeGreaterThan(1_000_000); // more than the model's layers: they were streamed again
    for (const key of ["ioWaitSeconds", "computeSeconds"]) expect(stats[key]).toBeTypeOf("number");
  });

  it("fails at start, naming the minimum, when the budget cannot hold one layer", async () => {
    const { code, stderr } = await runCli(["generate", "-m", STORIES_260K, "-p", "x", "--max-memory", "100KB"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /memory budget 100 KiB is too small for this model: the minimum is \d+ KiB/);
  });

  it("rejects a size it cannot read", async () => {
    const { code, stderr } = await runCli(["generate", "-m", STORIES_260K, "-p", "x", "--max-memory", "lots"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /max-memory/);
  });
});

describe("bad input: one line, exit 2, no stack trace", () => {
  it("a missing model file", async () => {
    const missing = path.join(dir, "nope.gguf");
    const { code, stderr } = await runCli(["generate", "--model", missing, "--prompt", "x"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  });

  it("a truncated model file", async () => {
    const truncated = path.join(dir, "truncated.gguf");
    fs.writeFileSync(truncated, fs.readFileSync(STORIES_260K).subarray(0, 5000));
    const { code, stderr } = await runCli(["generate", "--model", truncated, "--prompt", "x"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /layerstream: error: .+/);
  });

  it("a file that is not GGUF", async () => {
    const notGguf = path.join(dir, "text.gguf");
    fs.writeFileSync(notGguf, "hello, this is not a model\n".repeat(10));
    const { code, stderr } = await runCli(["generate", "--model", notGguf, "--prompt", "x"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /magic/i);
  });

  it("an unsupported architecture", async () => {
    const file = path.join(dir, "gpt9.gguf");
    await writeSyntheticModel(file, { architecture: "gpt9", nEmbd: 32, nLayer: 1, nHead: 2, nFf: 64, nVocab: 300, weightType: GgmlType.F32, seed: 1 });
    const { code, stderr } = await runCli(["generate", "--model", file, "--prompt", "x"]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /unsupported architecture "gpt9" \(supported: llama, qwen2, qwen3, phi3, gemma2, gemma3\)/);
  });

  it.each([
    [["--max-tokens", "abc"], /max-tokens/],
    [["--temperature", "-1"], /temperature/],
    [["--top-p", "1.5"], /top-p/],
    [["--threads", "0"], /threads/],
    [["--kv-type", "q4"], /kv-type/],
    [["--flash-attn", "maybe"], /flash-attn/],
    [["--no-such-flag"], /unknown option/],
  ])("a bad flag %j", async (extra, pattern) => {
    const { code, stderr } = await runCli(["generate", "--model", STORIES_260K, "--prompt", "x", ...extra]);
    expect(code).toBe(2);
    expectOneLineError(stderr, pattern);
  });

  it("no prompt", async () => {
    const { code, stderr } = await runCli(["generate", "--model", STORIES_260K]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /no prompt: give -p TEXT, -p - \(read stdin\) or -f FILE/);
  });
});

describe("layerstream inspect", () => {
  it("prints architecture, tokenizer and a tensor table", async () => {
    const { code, stdout } = await runCli(["inspect", STORIES_260K]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/llama/);
    expect(stdout).toMatch(/token_embd\.weight/);
    expect(stdout).toMatch(/blk\.4\.ffn_down\.weight/);
  });

  it("fails with one line on a missing file", async () => {
    const { code, stderr } = await runCli(["inspect", path.join(dir, "missing.gguf")]);
    expect(code).toBe(2);
    expectOneLineError(stderr, /missing\.gguf/);
  });
});
