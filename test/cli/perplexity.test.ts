/**
 * `layerstream perplexity` as a user runs it: llama-perplexity's output lines, --json, the same
 * number in RAM, streamed and on local workers, and one-line errors (exit 2) for bad input.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/index.js";
import { runCli } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";

const MODEL = modelFile("TinyStories-656K-Q8_0.gguf");
const ARGS = ["perplexity", "-m", MODEL, "-c", "128"];

let dir: string;
let textFile: string;
let apiPerplexity: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-perplexity-"));
  await using model = await loadModel({ model: MODEL, contextSize: 512 });
  const stories: string[] = [];
  for (let seed = 1; seed <= 6; seed++) stories.push("Once upon a time" + (await model.complete("Once upon a time", { maxTokens: 300, seed })));
  textFile = path.join(dir, "stories.txt");
  fs.writeFileSync(textFile, stories.join("\n"));
  apiPerplexity = (await model.perplexity(stories.join("\n"), { contextSize: 128 })).perplexity;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function oneLineError(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

async function jsonPerplexity(extra: readonly string[]): Promise<number> {
  const run = await runCli([...ARGS, "-f", textFile, "--json", ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { perplexity: number }).perplexity;
}

describe("layerstream perplexity", () => {
  it("prints the running estimate per chunk and the final estimate, as llama-perplexity", async () => {
    const run = await runCli([...ARGS, "-f", textFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\[1\]\d+\.\d{4},(\[\d+\]\d+\.\d{4},)+\nFinal estimate: PPL = \d+\.\d{4} \+\/- \d+\.\d{5}\n$/);
    expect(run.stdout).toContain(`Final estimate: PPL = ${apiPerplexity.toFixed(4)} +/- `);
    expect(run.stderr).toMatch(/7 chunks of 128 tokens \(441 scored of \d+\)/);
  });

  it("--json prints the API's result; --chunks limits the chunks", async () => {
    const run = await runCli([...ARGS, "-f", textFile, "--json", "--chunks", "2"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { chunks: number; chunkPerplexities: number[]; standardError: number };
    expect(result.chunks).toBe(2);
    expect(result.chunkPerplexities).toHaveLength(2);
    expect(result.standardError).toBeGreaterThan(0);
    expect(await jsonPerplexity([])).toBe(apiPerplexity);
  });

  it("the same number streamed (--max-memory) and on 2 workers with --wire f32; close with --wire q8_0", async () => {
    expect(await jsonPerplexity(["--max-memory", "1.3MB"])).toBe(apiPerplexity);
    expect(await jsonPerplexity(["--spawn-workers", "2", "--wire", "f32"])).toBe(apiPerplexity);
    const q8 = await jsonPerplexity(["--spawn-workers", "2", "--wire", "q8_0"]);
    expect(Math.abs(q8 / apiPerplexity - 1)).toBeLessThan(0.01);
  });
});

describe("bad input is one line, exit 2", () => {
  it("a missing text file, or none given", async () => {
    const missing = await runCli([...ARGS, "-f", path.join(dir, "none.txt")]);
    expect(missing.code).toBe(2);
    expect(oneLineError(missing.stderr)).toMatch(/cannot read the text file .*none\.txt: no such file/);
    const none = await runCli(ARGS);
    expect(none.code).toBe(2);
    expect(oneLineError(none.stderr)).toMatch(/required option '-f, --file <path>'/);
  });

  it("bad flags: --ctx-size, --chunks, --wire, an empty --workers list", async () => {
    for (const flags of [["-c", "2"], ["--chunks", "0"], ["--wire", "f8"], ["--workers", ","], ["--max-memory", "lots"]]) {
      const run = await runCli([...ARGS, "-f", textFile, ...flags]);
      expect(run.code, flags.join(" ")).toBe(2);
      oneLineError(run.stderr);
    }
  });

  it("a text shorter than 2 × --ctx-size says how many tokens it needs, before loading", async () => {
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "Once upon a time, there was a cat.");
    const run = await runCli([...ARGS, "-f", short]);
    expect(run.code).toBe(2);
    expect(oneLineError(run.stderr)).toMatch(/the text is \d+ tokens; perplexity with a context of 128 needs at least 256 tokens/);
  });
});
