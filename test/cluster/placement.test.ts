/**
 * Placement by machine, end to end (real workers): `--assign auto` gives a worker with a small
 * memory budget only what it holds, explicit ranges are used as given, and `layerstream status`
 * shows each worker's layers, budget, disk speed and cache counters while a root is connected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";
import { loadModel } from "../../src/index.js";
import { startWorker, statsOf, type WorkerProcess } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const args = ["generate", "-m", STORIES, "-p", "Once upon a time", "-n", "30", "--temperature", "0", "--wire", "f32", "--stats-json"];

describe("placement by machine", () => {
  let small: WorkerProcess;
  let large: WorkerProcess;
  let expected: string;

  beforeAll(async () => {
    [small, large] = await Promise.all([startWorker(STORIES, ["--max-memory", "400KB"]), startWorker(STORIES, ["--max-memory", "4MB"])]);
    const single = await runCli(args.filter((a) => a !== "--stats-json"));
    expect(single.code, single.stderr).toBe(0);
    expected = single.stdout;
  });
  afterAll(async () => {
    await Promise.all([small?.stop(), large?.stop()]);
  });

  it("auto (the default) gives the 400 KB worker the one layer it holds and the 4 MB worker the rest", async () => {
    const run = await runCli([...args, "--workers", `${small.address},${large.address}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toContain(`worker 1 ${small.address}: layers 0\n`);
    expect(run.stderr).toContain(`worker 2 ${large.address}: layers 1-4\n`);
    expect(statsOf(run.stderr)).toMatchObject({ assign: "auto", workers: 2, hops: 3 });
  });

  it("explicit ranges are used as given, and must cover every layer once", async () => {
    const run = await runCli([...args, "--assign", `0@${small.address.slice(6)},1-4@${large.address}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toMatch(/assignment \(session \d+, explicit/);
    const gap = await runCli([...args, "--assign", `0@${small.address},2-4@${large.address}`]);
    expect(gap.code).toBe(2);
    expect(gap.stderr).toMatch(/leaves layer 1 to nobody/);
  });

  it("status shows each worker's layers, budget, disk speed and cache counters while a root is connected", async () => {
    await using model = await loadModel({ model: STORIES, workers: [small.address, large.address], wire: "f32", contextSize: 32 });
    await model.complete("Once upon a time", { maxTokens: 8, temperature: 0 });
    const run = await runCli(["status", "--workers", `${small.address},${large.address}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${small.address}: stories260K\\.gguf \\(5 layers, [\\d.]+ MiB\\)\\n  session \\d+: layers 0 \\(1 of 1 fit\\), \\d+ sequences, budget 400 KiB`));
    expect(run.stdout).toMatch(/session \d+: layers 1-4 \(4 of 4 fit\)/);
    expect(run.stdout).toMatch(/memory: budget 4\.00 MiB \(--max-memory\), free [\d.]+ [KMG]iB; disk [\d.]+ [KMG]?i?B\/s; one layer [\d.]+ ms/);
    expect(run.stdout).toMatch(/since assignment: 8 batches, [\d.]+ s compute, cache \d+ hits \/ \d+ misses/);
    const json = await runCli(["status", "--json", "--workers", `${large.address},tcp://127.0.0.1:1`]);
    const reports = JSON.parse(json.stdout) as { address: string; stats?: { status?: { session?: { layers: number[] } } }; error?: string }[];
    expect(reports[0].stats?.status?.session?.layers).toEqual([1, 2, 3, 4]);
    expect(reports[1].error).toMatch(/worker tcp:\/\/127\.0\.0\.1:1.*(could not reach|no answer)/);
  });
});
