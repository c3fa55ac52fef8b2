import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { modelFile } from "../helpers/paths.js";
import { BIN, runCli } from "../helpers/cli.js";
import { statsOf, waitUntilGone } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const PIDS = /started (\d+) local workers? \(pids ([\d, ]+)\)/;

function pidsOf(stderr: string): number[] {
  const match = PIDS.exec(stderr);
  expect(match, stderr).not.toBeNull();
  return match![2].split(",").map((p) => Number(p.trim()));
}

describe("cluster-spawn-workers", () => {
  it("runs on N local workers and leaves none running after a normal exit", async () => {
    const run = await runCli(["generate", "-m", STORIES, "-p", "Once upon a time", "-n", "16", "--temperature", "0", "--spawn-workers", "3", "--assign", "contiguous", "--stats-json"]);
    expect(run.code, run.stderr).toBe(0);
    const pids = pidsOf(run.stderr);
    expect(pids).toHaveLength(3);
    expect(run.stdout).toBe(", there was a little girl named Lily. She loved to play\n");
    expect(statsOf(run.stderr)).toMatchObject({ workers: 3, hops: 4, wire: "q8_0" });
    expect(await waitUntilGone(pids)).toEqual([]);
  });

  it("stops its workers when the run fails", async () => {
    const run = await runCli(["generate", "-m", STORIES, "-p", "Once upon a time there was", "-n", "4", "-c", "3", "--spawn-workers", "2"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/context is full/);
    expect(await waitUntilGone(pidsOf(run.stderr))).toEqual([]);
  });

  it.each(["SIGINT", "SIGKILL"] as const)("leaves no worker running when the root gets %s mid-generation", async (signal) => {
    const root = spawn(process.execPath, [BIN, "generate", "-m", STORIES, "-p", "Once", "-n", "100000", "-c", "2048", "--ignore-eos", "--spawn-workers", "2"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => root.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      root.stdout!.once("data", () => resolve()); // generating
      root.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    });
    const pids = pidsOf(stderr);
    root.kill(signal);
    const code = await exited;
    if (signal === "SIGINT") expect(code).toBe(130);
    expect(await waitUntilGone(pids)).toEqual([]);
  });
});
