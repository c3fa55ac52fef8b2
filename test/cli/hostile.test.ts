/**
 * Every hostile input of the hardening issue through the real CLI: each ends in a one-line
 * error and its documented exit code (2: bad input), within seconds, and no run prints
 * "internal error" or a stack trace (the suite-wide grep is the last test here).
 * Files are made by the tests; the truncation cases truncate a copy while a real process runs.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli, type CliResult } from "../helpers/cli.js";
import { f32Bytes, overlapTensors, patchTensorData, writeModel } from "../helpers/hostileModels.js";
import type { GgufWriter } from "../../src/engine/gguf/writer.js";
import { isRunning, startWorker } from "../cluster/workerProcess.js";

let dir: string;
let good: string;
/** every CLI output of this file, checked at the end for internal errors and stack traces */
const outputs: { what: string; result: CliResult }[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-hostile-cli-"));
  good = await writeModel(path.join(dir, "good.gguf"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(what: string, args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
  const result = await runCli(args, { XDG_CACHE_HOME: path.join(dir, "cache") }, timeoutMs);
  outputs.push({ what, result });
  return result;
}

/** Exit 2 with exactly one error line matching `pattern` (ours, or commander's for a bad flag). */
function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split("\n").filter((line) => /^(layerstream: )?error:/.test(line));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

async function hostileFile(name: string, spec: Parameters<typeof writeModel>[1], edit?: Parameters<typeof writeModel>[2]): Promise<string> {
  return writeModel(path.join(dir, `${name}.gguf`), spec, edit);
}

const GENERATE = ["generate", "-p", "Once upon a time", "-n", "4", "--temp", "0"];

describe("files that are not regular files never block", () => {
  let fifo: string;
  beforeAll(() => {
    fifo = path.join(dir, "model.fifo");
    execFileSync("mkfifo", [fifo]);
  });

  it.each([
    ["generate", () => ["generate", "-m", fifo, "-p", "hi"]],
    ["inspect", () => ["inspect", fifo]],
    ["verify", () => ["verify", fifo]],
    ["worker", () => ["worker", "-m", fifo, "--listen", "tcp://127.0.0.1:*", "--insecure"]],
  ])("%s with a FIFO as the model: one line naming it, exit 2, at once", async (command, args) => {
    const started = Date.now();
    expectOneLineError(await cli(`${command} FIFO`, args(), 15_000), /model\.fifo is a FIFO \(named pipe\), not a regular file/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a character device and a directory: one line naming what they are", async () => {
    expectOneLineError(await cli("inspect /dev/zero", ["inspect", "/dev/zero"]), /\/dev\/zero is a character device, not a regular file/);
    expectOneLineError(await cli("generate -m dir", ["generate", "-m", `${dir}/`, "-p", "hi"]), /is a directory, not a regular file/);
  });
});

describe("out-of-range numbers and ids: refused at load with one line", () => {
  it.each([
    ["context_length 2^32 − 1", { nCtxTrain: 2 ** 32 - 1 }, undefined, /llama\.context_length = 4294967295 must be an integer in \[1, 16777216\]/],
    ["rope.freq_base 0", { ropeFreqBase: 0 }, undefined, /llama\.rope\.freq_base = 0 must be a finite number > 0/],
    ["rope.freq_base NaN", { ropeFreqBase: NaN }, undefined, /llama\.rope\.freq_base = NaN must be a finite number > 0/],
    ["block_count 4, 5 layers of tensors", { nLayer: 5 }, (w: GgufWriter) => w.setUint32("llama.block_count", 4), /block_count is 4 but the file has tensors of block 4/],
    ["BOS beyond the vocabulary", {}, (w: GgufWriter) => w.setUint32("tokenizer.ggml.bos_token_id", 100000), /tokenizer\.ggml\.bos_token_id = 100000 is outside the vocabulary \[0, 300\)/],
    ["EOS beyond the vocabulary", {}, (w: GgufWriter) => w.setUint32("tokenizer.ggml.eos_token_id", 300), /tokenizer\.ggml\.eos_token_id = 300 is outside the vocabulary \[0, 300\)/],
  ] as const)("%s: generate fails (exit 2), inspect says it would refuse it (exit 0)", async (name, spec, edit, message) => {
    const file = await hostileFile(name.replace(/\W+/g, "-"), spec, edit as never);
    expectOneLineError(await cli(`generate ${name}`, [...GENERATE, "-m", file]), message);
    const inspect = await cli(`inspect ${name}`, ["inspect", file]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout.trim().split("\n").at(-1)).toMatch(new RegExp(`^would refuse: .*${message.source}`));
  });

  it.each([["1e15"], ["1000000000000000"], ["16777217"]])("--ctx-size %s: one line, exit 2", async (value) => {
    expectOneLineError(await cli(`--ctx-size ${value}`, [...GENERATE, "-m", good, "--ctx-size", value]), /ctx-size.*expected an integer in \[1, 16777216\]/);
  });

  it("overlapping tensors: one line naming both, exit 2 (inspect too)", async () => {
    const file = path.join(dir, "overlap.gguf");
    fs.copyFileSync(good, file);
    overlapTensors(file, "blk.1.ffn_up.weight", "blk.1.ffn_gate.weight");
    expectOneLineError(await cli("generate overlap", [...GENERATE, "-m", file]), /tensor "blk\.1\.ffn_(up|gate)\.weight" data .* overlaps tensor "blk\.1\.ffn_(up|gate)\.weight"/);
    expectOneLineError(await cli("inspect overlap", ["inspect", file]), /overlaps tensor/);
  });
});

describe("NaN and Inf weights", () => {
  let nanNorm: string;
  let infScale: string;
  beforeAll(() => {
    nanNorm = path.join(dir, "nan-norm.gguf");
    fs.copyFileSync(good, nanNorm);
    patchTensorData(nanNorm, "blk.0.ffn_norm.weight", 4 * 7, f32Bytes(NaN));
    infScale = path.join(dir, "inf-scale.gguf");
    fs.copyFileSync(good, infScale);
    patchTensorData(infScale, "blk.1.attn_output.weight", 34 * 5, new Uint8Array([0x00, 0x7c]));
  });

  it("--check-tensors names the tensor, exit 2; inspect --check-tensors lists it", async () => {
    expectOneLineError(await cli("generate --check-tensors NaN", [...GENERATE, "-m", nanNorm, "--check-tensors"]), /tensor "blk\.0\.ffn_norm\.weight" holds NaN \(element 7 of 64\)/);
    expectOneLineError(await cli("generate --check-tensors Inf", [...GENERATE, "-m", infScale, "--check-tensors"]), /tensor "blk\.1\.attn_output\.weight" holds Inf \(element 160 of 4096\)/);
    const inspect = await cli("inspect --check-tensors", ["inspect", infScale, "--check-tensors"]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/would refuse: tensor "blk\.1\.attn_output\.weight" holds Inf/);
    expect((await cli("inspect (no scan)", ["inspect", infScale])).stdout).toMatch(/would refuse: nothing \(loads\)/);
  });

  it("without --check-tensors: no garbage text at exit 0 — the bad values stop generation with one line", async () => {
    expectOneLineError(await cli("generate NaN", [...GENERATE, "-m", nanNorm]), /tensor "blk\.0\.ffn_norm\.weight" holds NaN/);
    expectOneLineError(await cli("generate Inf", [...GENERATE, "-m", infScale]), /the model computed a (NaN|infinite) logit .*--check-tensors/);
  });
});

describe("the model file changes while a process uses it", () => {
  let big: string;
  beforeAll(async () => {
    big = await writeModel(path.join(dir, "big.gguf"), { nEmbd: 256, nLayer: 6, nHead: 4, nHeadKv: 4, nFf: 768, nCtxTrain: 8192 });
  });

  /**
   * Starts a long generate (on `copy`, or with `rootModel` when the copy is a worker's), and
   * truncates the copy once text flows; returns the run.
   */
  async function truncateWhileGenerating(name: string, extra: readonly string[], copy = path.join(dir, `${name}.gguf`), rootModel = copy): Promise<{ result: CliResult; copy: string }> {
    if (!fs.existsSync(copy)) fs.copyFileSync(big, copy);
    const args = [BIN, "generate", "-m", rootModel, "-p", "Once upon a time", "-n", "8000", "-c", "8192", "--ignore-eos", "--temp", "0", ...extra];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CACHE_HOME: path.join(dir, "cache") } });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (s: string) => ((stdout += s), stdout.length > 20 && resolve()));
      void exited.then(() => resolve()); // ended before any text: the assertions below say why
    });
    fs.truncateSync(copy, 100_000);
    const code = await exited;
    clearTimeout(killer);
    const result = { code, stdout, stderr };
    outputs.push({ what: name, result });
    return { result, copy };
  }

  it("root, resident layers: one line naming the file and the change, exit 2 (never SIGBUS)", async () => {
    const { result, copy } = await truncateWhileGenerating("truncated-resident", []);
    expectOneLineError(result, new RegExp(`model file ${copy} changed on disk while in use \\(size \\d+ → 100000 bytes\\)`));
  });

  it("root, streamed layers (--max-memory): one line naming the file and the change, exit 2", async () => {
    const { result, copy } = await truncateWhileGenerating("truncated-streamed", ["--max-memory", "58MB"]);
    expectOneLineError(result, new RegExp(`model file ${copy} changed on disk while in use`));
  });

  it("worker: truncated while it serves a run, the change reaches the root as a typed ERROR (MODEL_FILE_CHANGED), exit 2; the worker keeps running", async () => {
    const copy = path.join(dir, "worker-copy.gguf");
    fs.copyFileSync(big, copy);
    await using worker = await startWorker(copy, ["--insecure", "--max-memory", "58MB"]);
    const { result } = await truncateWhileGenerating("truncated-worker", ["--workers", worker.address, "--insecure"], copy, big);
    expectOneLineError(result, new RegExp(`MODEL_FILE_CHANGED: model file ${copy} changed on disk while in use`));
    expect(worker.stderr()).not.toMatch(/internal error|\n\s+at /);
    expect(isRunning(worker.pid)).toBe(true);
  });
});

describe("worker --listen", () => {
  let taken: net.Server;
  let takenPort: number;
  beforeAll(async () => {
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    takenPort = (taken.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => taken.close(resolve)));

  it.each([
    ["a port in use", () => `tcp://127.0.0.1:${takenPort}`, () => new RegExp(`cannot listen on tcp://127\\.0\\.0\\.1:${takenPort}: address already in use`)],
    ["a host that does not exist", () => "tcp://foo.invalid:5555", () => /cannot listen on tcp:\/\/foo\.invalid:5555: host "foo\.invalid" is not an IP address, a network interface of this machine .* or a host name that resolves/],
    ["an address the machine does not have", () => "tcp://192.0.2.1:5555", () => /cannot listen on tcp:\/\/192\.0\.2\.1:5555: this machine has no such address/],
    ["port 99999", () => "tcp://127.0.0.1:99999", () => /cannot listen on tcp:\/\/127\.0\.0\.1:99999: port 99999 is out of range \(1–65535, or \* for any free port\)/],
    ["another scheme", () => "udp://127.0.0.1:5555", () => /cannot listen on udp:\/\/127\.0\.0\.1:5555: expected tcp:\/\/HOST:PORT/],
  ])("%s: one line naming the address and the cause, exit 2", async (_what, address, message) => {
    expectOneLineError(await cli(`worker --listen ${address()}`, ["worker", "-m", good, "--listen", address(), "--insecure"]), message());
  });
});

describe("the whole run", () => {
  it("no output of any hostile case says internal error or shows a stack trace", () => {
    expect(outputs.length).toBeGreaterThan(25);
    for (const { what, result } of outputs) {
      expect(`${what}: ${result.stderr}`).not.toMatch(/internal error/);
      expect(`${what}: ${result.stderr}`).not.toMatch(/\n\s+at /);
      expect(result.code, `${what}: ${result.stderr}`).not.toBeNull();
      expect(result.code, what).not.toBe(1);
    }
  });
});
