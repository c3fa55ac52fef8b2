/**
 * `layerstream verify MODEL` and `--verify full`: the full sha256 computed once and cached, and
 * the case the sampled fingerprint cannot see — a worker's copy with 1 MiB zeroed between the
 * sampled chunks gives other text under the same fingerprint; once both files are verified,
 * the root refuses that worker, naming the full hashes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliResult } from "../helpers/cli.js";
import { writeModel, zeroedCopy } from "../helpers/hostileModels.js";
import { IDENTITY_CHUNK_BYTES, IDENTITY_CHUNKS } from "../../src/host/modelIdentity.js";
import { startWorker } from "../cluster/workerProcess.js";

let dir: string;
let original: string;
let zeroed: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-verify-"));
  env = { XDG_CACHE_HOME: path.join(dir, "cache") };
  original = await writeModel(path.join(dir, "model.gguf"), { nEmbd: 512, nLayer: 8, nHead: 8, nHeadKv: 8, nFf: 1536 });
  const span = fs.statSync(original).size - IDENTITY_CHUNK_BYTES;
  const gap = Math.floor((span * 7) / (IDENTITY_CHUNKS - 1)) + IDENTITY_CHUNK_BYTES + 4096; // between sampled chunks 7 and 8
  zeroed = zeroedCopy(original, path.join(dir, "zeroed.gguf"), gap, 1 << 20);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha256Of = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const GREEDY = ["-p", "Once upon a time", "-n", "12", "--temp", "0", "--ignore-eos"];

function expectClean(result: CliResult): void {
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe("layerstream verify", () => {
  it("prints the file's sha256, computes it once, then answers from the cache", async () => {
    const first = await runCli(["verify", original], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${sha256Of(original)}  ${original}\n`);
    expect(first.stderr).toMatch(/computed now, cached/);
    const again = await runCli(["verify", original, "--json"], env);
    expect(JSON.parse(again.stdout)).toEqual({ path: original, sha256: sha256Of(original), cached: true });
    expect(fs.readdirSync(path.join(dir, "cache/layerstream/verify"))).toHaveLength(1);
    expectClean(first);
  });

  it("a missing file is one line, exit 2", async () => {
    const missing = await runCli(["verify", path.join(dir, "nope.gguf")], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^layerstream: error: model file not found: .*nope\.gguf$/);
  });

  it("generate --verify full hashes the model (once) and says so", async () => {
    const run = await runCli(["generate", "-m", zeroed, ...GREEDY, "--verify", "full"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`model file ${zeroed}: sha256 ${sha256Of(zeroed)} \\(computed now, cached\\)`));
    expectClean(run);
  });
});

describe("a worker whose file differs only between the sampled chunks", () => {
  it("passes the sampled check and gives other text; after layerstream verify on both files the root refuses it", async () => {
    const local = await runCli(["generate", "-m", original, ...GREEDY], { XDG_CACHE_HOME: path.join(dir, "empty-cache") });
    const workerEnv = { XDG_CACHE_HOME: path.join(dir, "empty-cache") };
    {
      await using worker = await startWorker(zeroed, ["--insecure"], 20_000, workerEnv);
      const sampled = await runCli(["generate", "-m", original, ...GREEDY, "--workers", worker.address, "--insecure"], workerEnv);
      expect(sampled.code, sampled.stderr).toBe(0);
      expect(sampled.stdout).not.toBe(local.stdout); // the lie the sampled fingerprint cannot see
    }
    for (const file of [original, zeroed]) expect((await runCli(["verify", file], env)).code).toBe(0);
    await using worker = await startWorker(zeroed, ["--insecure"], 20_000, env);
    const full = await runCli(["generate", "-m", original, ...GREEDY, "--workers", worker.address, "--insecure"], env);
    expect(full.code, full.stderr).toBe(2);
    expect(full.stderr).toMatch(new RegExp(`different model file.*sha256 ${sha256Of(zeroed).slice(0, 16)}.*sha256 ${sha256Of(original).slice(0, 16)}`));
    expectClean(full);
  });
});
