/**
 * Losing workers (real processes on loopback, real ZeroMQ with the cluster key): a worker killed
 * or stopped mid-generation costs the root only a short delay — its layers move to the others,
 * the sequence is replayed, and the text is exactly the single-process text (f32 wire); a
 * restarted worker rejoins; when every worker is gone the root runs the layers itself; and a
 * root that dies frees the workers' session state within the heartbeat timeout.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli } from "../helpers/cli.js";
import { modelFile } from "../helpers/paths.js";
import { loadModel } from "../../src/index.js";
import { isRunning, startWorker, statsOf, type WorkerProcess } from "./workerProcess.js";

const STORIES = modelFile("stories260K.gguf");
const N_TOKENS = 700;
const generateArgs = (extra: readonly string[]) => ["generate", "-m", STORIES, "-p", "Once upon a time", "-n", String(N_TOKENS), "--ignore-eos", "--temperature", "0", "--wire", "f32", "--stats-json", ...extra];

const started: WorkerProcess[] = [];
async function workers(n: number, extra: readonly string[] = []): Promise<WorkerProcess[]> {
  const list = await Promise.all(Array.from({ length: n }, () => startWorker(STORIES, extra)));
  started.push(...list);
  return list;
}

afterEach(async () => {
  for (const w of started.splice(0)) {
    if (isRunning(w.pid)) process.kill(w.pid, "SIGCONT");
    await w.stop();
  }
});

let single: string | undefined;
async function singleProcessText(): Promise<string> {
  if (single === undefined) {
    const run = await runCli(generateArgs([]));
    expect(run.code, run.stderr).toBe(0);
    single = run.stdout;
  }
  return single;
}

/** Runs generate over `list`, sending `signal` to `victim` once the first text is out. */
function generateAndHurt(list: readonly WorkerProcess[], victim: WorkerProcess, signal: NodeJS.Signals, extra: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...generateArgs(["--workers", list.map((w) => w.address).join(","), ...extra])], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let hurt = false;
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    if (!hurt && stdout.length > 40) {
      hurt = true;
      process.kill(victim.pid, signal);
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("cluster recovery", () => {
  it("SIGKILL of one of three workers mid-generation: exit 0 and the single-process text", async () => {
    const expected = await singleProcessText();
    const list = await workers(3);
    const run = await generateAndHurt(list, list[1], "SIGKILL");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toMatch(new RegExp(`worker ${list[1].address} lost`));
    expect(run.stderr).toMatch(/recovered in [\d.]+ s .*replayed \d+ tokens of 1 sequence/);
    const stats = statsOf(run.stderr);
    expect(stats).toMatchObject({ workers: 2, recoveries: 1 });
    expect(JSON.stringify(stats.perWorker)).not.toContain(list[1].address);
  });

  it("SIGSTOP of one of three workers mid-generation: noticed within the heartbeat timeout, the same text", async () => {
    const expected = await singleProcessText();
    const list = await workers(3, ["--heartbeat-timeout", "1"]);
    const run = await generateAndHurt(list, list[2], "SIGSTOP", ["--heartbeat-timeout", "1"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(expected);
    const stats = statsOf(run.stderr);
    expect(stats).toMatchObject({ workers: 2, recoveries: 1 });
    // the stalled worker is noticed about one heartbeat timeout after it stopped answering
    expect(stats.maxDetectSeconds as number).toBeLessThan(1 + 0.75);
  });

  it("a restarted worker rejoins the running root, and with every worker gone the root runs the layers itself", async () => {
    const expected = (await singleProcessText()).slice(0, 200);
    const list = await workers(2);
    const lines: string[] = [];
    await using model = await loadModel({ model: STORIES, workers: list.map((w) => w.address), wire: "f32", log: (line) => lines.push(line) });
    const complete = () => model.complete("Once upon a time", { maxTokens: 60, ignoreEos: true, temperature: 0 });
    const first = await complete();
    expect(expected.startsWith(first)).toBe(true);

    const port = list[1].address.split(":").at(-1)!;
    await list[1].stop();
    expect(await complete()).toBe(first);
    expect(lines.join("\n")).toMatch(new RegExp(`worker ${list[1].address} lost`));

    const again = await startWorker(STORIES, ["--listen", `tcp://127.0.0.1:${port}`]);
    started.push(again);
    await expect.poll(() => lines.join("\n"), { timeout: 5000 }).toMatch(/is back; it rejoins at the next pass/);
    expect(await complete()).toBe(first);
    expect(lines.join("\n")).toMatch(/rejoined: new assignment/);
    const stats = await model.stats();
    expect(stats.cluster?.workers).toBe(2);
    expect(stats.cluster?.perWorker.find((w) => w.address === again.address)?.batches).toBeGreaterThan(0);

    await Promise.all([list[0].stop(), again.stop()]);
    expect(await complete()).toBe(first);
    expect(lines.join("\n")).toMatch(/no worker is left; this process runs every layer/);
  });

  it("several sequences in flight in several lanes: a lost worker costs none of them their text", async () => {
    const prompts = ["Once upon a time", "The little dog", "Lily and Tom went", "One day, a bird"];
    const options = { maxTokens: 300, ignoreEos: true, temperature: 0 } as const;
    const alone: string[] = [];
    {
      await using model = await loadModel({ model: STORIES });
      for (const prompt of prompts) alone.push(await model.complete(prompt, options));
    }
    const list = await workers(3);
    await using model = await loadModel({ model: STORIES, workers: list.map((w) => w.address), wire: "f32", parallel: 4, contextSize: 512 });
    let killed = false;
    const texts = await Promise.all(
      prompts.map(async (prompt) => {
        let text = "";
        for await (const piece of model.stream(prompt, options)) {
          text += piece;
          if (!killed && text.length > 40) {
            killed = true;
            process.kill(list[0].pid, "SIGKILL");
          }
        }
        return text;
      }),
    );
    expect(texts).toEqual(alone);
    expect((await model.stats()).cluster).toMatchObject({ workers: 2, recoveries: 1 });
  });

  it("a new worker added to a running root takes layers from the next pass; the text does not change", async () => {
    const expected = (await singleProcessText()).slice(0, 200);
    const [first, second] = await workers(2);
    const lines: string[] = [];
    await using model = await loadModel({ model: STORIES, workers: [first.address], wire: "f32", log: (line) => lines.push(line) });
    const text = await model.complete("Once upon a time", { maxTokens: 60, ignoreEos: true, temperature: 0 });
    expect(expected.startsWith(text)).toBe(true);
    model.addWorker(second.address);
    expect(() => model.addWorker(second.address)).toThrow(/already part of the cluster/);
    expect(await model.complete("Once upon a time", { maxTokens: 60, ignoreEos: true, temperature: 0 })).toBe(text);
    expect(lines.join("\n")).toMatch(new RegExp(`worker ${second.address} added: new assignment`));
    const stats = await model.stats();
    expect(stats.cluster?.perWorker.map((w) => w.batches > 0)).toEqual([true, true]);
  });

  it("a root that dies or stalls frees each worker's session within the heartbeat timeout", async () => {
    const list = await workers(2, ["--heartbeat-timeout", "1"]);
    for (const signal of ["SIGKILL", "SIGSTOP"] as const) {
      const root = spawn(process.execPath, [BIN, ...generateArgs(["--workers", list.map((w) => w.address).join(","), "-n", "2000", "-c", "2048"])], { stdio: ["ignore", "pipe", "ignore"] });
      await new Promise((resolve) => root.stdout.once("data", resolve));
      const before = list.map((w) => (w.stderr().match(/the root went away/g) ?? []).length);
      const t0 = performance.now();
      root.kill(signal);
      await expect.poll(() => list.every((w, k) => (w.stderr().match(/the root went away/g) ?? []).length > before[k]), { timeout: 4000, interval: 50 }).toBe(true);
      expect(performance.now() - t0).toBeLessThan(1000 + 1500);
      root.kill("SIGKILL");
    }
  });
});
