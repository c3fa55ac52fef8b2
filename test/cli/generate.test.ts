/**
 * `layerstream generate` as a new user meets it: the built-in model, the ways to give a
 * prompt, llama.cpp's flag names, and what happens on Ctrl-C and when stdout goes away.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli, runCommand } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";
import { waitUntilGone } from "../cluster/workerProcess.js";

/** llama.cpp's 30 greedy tokens (its zen4 CPU build, node-llama-cpp 3.22.1) after "Once upon a time" with the built-in model */
/** llama.cpp's greedy text for the built-in model, with flash attention on (its default, and ours) */
const DEFAULT_MODEL_TEXT = ", a little girl named Lily lived in a small house. She loved to eat yummy food. One day, she saw a small bird on the ground. The bird was sad because it could not eat it.\nLily wanted to help the bird. She tried to eat the ";
/** the same with --flash-attn off (llama.cpp's -fa off) */
const CLASSIC_ATTENTION_TEXT = ", a little girl named Lily lived in a small house with her mom. Lily loved to play with her toys and read her favorite book. One day, she found a big, round book in her room. It was shiny and shiny.\nLily ";
const STORIES_TEXT = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-generate-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function oneLineError(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

describe("the built-in model", () => {
  it("runs when no --model is given, and says so on stderr", async () => {
    const run = await runCli(["generate", "--prompt", "Once upon a time", "-n", "30", "--temperature", "0"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(DEFAULT_MODEL_TEXT + "\n");
    expect(run.stderr).toMatch(/no --model given: using the built-in model TinyStories-656K-Q8_0/);
  });

  it("--flash-attn off gives llama.cpp's -fa off text, --flash-attn on (and auto) its default's", async () => {
    const args = ["generate", "--prompt", "Once upon a time", "-n", "30", "--temperature", "0"];
    // --no-repack (llama.cpp's flag) changes no bits either (test/engine/model/repack.test.ts)
    const [off, on] = await Promise.all([runCli([...args, "--flash-attn", "off", "--no-repack"]), runCli([...args, "--flash-attn", "on"])]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toBe(CLASSIC_ATTENTION_TEXT + "\n");
    expect(on.stdout).toBe(DEFAULT_MODEL_TEXT + "\n");
  });

  it("is found by name, as is stories260K", async () => {
    const run = await runCli(["generate", "-m", "stories260K", "-p", "Once upon a time", "-n", "40", "--temp", "0"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(STORIES_TEXT + "\n");
  });

  it("an unknown model name is one line that lists what there is", async () => {
    const run = await runCli(["generate", "-m", "no-such-model", "-p", "x"], { XDG_CACHE_HOME: dir });
    expect(run.code).toBe(2);
    expect(oneLineError(run.stderr)).toMatch(/no-such-model.*stories260K/);
  });
});

describe("the prompt and llama.cpp's flag names", () => {
  it("--temp is --temperature", async () => {
    const args = ["generate", "-m", "stories260K", "-p", "Once upon a time", "-n", "20", "--seed", "7"];
    const [a, b] = await Promise.all([runCli([...args, "--temp", "1.3"]), runCli([...args, "--temperature", "1.3"])]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it("-f FILE and -p - (stdin) give the same text as -p", async () => {
    const file = path.join(dir, "prompt.txt");
    fs.writeFileSync(file, "Once upon a time");
    const fromFile = await runCli(["generate", "-m", "stories260K", "-f", file, "-n", "40", "--temp", "0"]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toBe(STORIES_TEXT + "\n");
    const fromStdin = await runCommand("sh", ["-c", `printf 'Once upon a time' | "${process.execPath}" "${BIN}" generate -m stories260K -p - -n 40 --temp 0`]);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe(STORIES_TEXT + "\n");
  });

  it("a missing prompt file, or -p and -f together, is one line", async () => {
    const missing = await runCli(["generate", "-f", path.join(dir, "none.txt")]);
    expect(missing.code).toBe(2);
    expect(oneLineError(missing.stderr)).toMatch(/cannot read the prompt file .*none\.txt: no such file/);
    const both = await runCli(["generate", "-p", "x", "-f", path.join(dir, "none.txt")]);
    expect(both.code).toBe(2);
    expect(oneLineError(both.stderr)).toMatch(/either -p\/--prompt or -f\/--file/);
  });

  it("a --workers list with no address is an error, not a local run", async () => {
    const run = await runCli(["generate", "-p", "x", "--workers", ",,,"]);
    expect(run.code).toBe(2);
    expect(oneLineError(run.stderr)).toMatch(/--workers ",,," names no worker address/);
  });
});

/** Starts an endless generation; resolves once text is flowing. */
function startEndless(extra: readonly string[] = []) {
  const child = spawn(process.execPath, [BIN, "generate", "-m", "stories260K", "-p", "Once upon a time", "-n", "1000000", "-c", "2048", "--ignore-eos", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const flowing = new Promise<void>((resolve) => child.stdout!.setEncoding("utf8").on("data", (s: string) => ((stdout += s), resolve())));
  return { child, exited, flowing, out: () => stdout, err: () => stderr };
}

describe("process hygiene", () => {
  it("Ctrl-C: the text so far and a newline, exit 130", async () => {
    const run = startEndless();
    await run.flowing;
    const sentAt = performance.now();
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);
    expect(performance.now() - sentAt).toBeLessThan(5000);
    expect(run.out().length).toBeGreaterThan(0);
    expect(run.out().endsWith("\n")).toBe(true);
    expect(run.err()).not.toMatch(/internal error/);
  });

  it("a closed stdout (… | head -c 20) stops generation at once: exit 0, no worker left", async () => {
    const run = startEndless(["--spawn-workers", "2"]);
    await run.flowing;
    const pids = [...run.err().matchAll(/pids ([\d, ]+)\)/g)].flatMap((m) => m[1].split(",").map(Number));
    expect(pids).toHaveLength(2);
    run.child.stdout!.destroy(); // the reader goes away, as `head` does
    expect(await run.exited).toBe(0);
    expect(run.err()).not.toMatch(/internal error|EPIPE/);
    expect(await waitUntilGone(pids)).toEqual([]);
  });

  it("the same through a real `| head -c 20`", async () => {
    const run = await runCommand("bash", ["-c", `set -o pipefail; "${process.execPath}" "${BIN}" generate -m stories260K -p "Once upon a time" -n 1000000 -c 2048 --ignore-eos | head -c 20`], {}, 30_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toHaveLength(20);
  });
});
