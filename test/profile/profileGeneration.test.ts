/**
 * Profiled generations (src/profile, `layerstream profile`): a 2-worker run over real worker processes and real
 * ZeroMQ, with worker budgets small enough to stream, must produce numbers that add up — every
 * pass's wall time against the sum of its parts, bytes read against cache misses, wire bytes
 * against what the cluster reports — and a local streaming run likewise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { Model } from "../../src/engine/model/model.js";
import type { CliIo } from "../../src/cli/io.js";
import { Command } from "commander";
import { profileGeneration as profileWithFlags } from "../../src/cli/commands/profile.js";
import { addGenerateOptions, type GenerateFlags } from "../../src/cli/commands/generate.js";
import type { ProfileRun } from "../../src/profile/profileRun.js";
import { BLOCK_OPS } from "../../src/telemetry/records.js";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";
import { runCli } from "../helpers/cli.js";
import { startWorker, type WorkerProcess } from "../cluster/workerProcess.js";

const N_LAYER = 6;
const KV_AND_BUFFERS_BYTES = 2560 << 10;
const WORKER_BUDGET = () => 2 * layerBytes + KV_AND_BUFFERS_BYTES;
let dir: string;
let modelPath: string;
let layerBytes: number;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-profile-"));
  modelPath = path.join(dir, "model.gguf");
  await writeSyntheticModel(modelPath, { nEmbd: 512, nLayer: N_LAYER, nHead: 8, nHeadKv: 4, nFf: 1536, nVocab: 320, weightType: GgmlType.Q8_0, seed: 21 });
  using model = Model.open(modelPath, { access: "read" });
  layerBytes = model.layers[0].nBytes;
  // each worker runs 3 of the 6 layers with room for 2: it streams
  // --max-memory is all a worker holds for its part: 2 layers, plus room for its KV cache and buffers (well under a layer here)
  for (let i = 0; i < 2; i++) workers.push(await startWorker(modelPath, ["--max-memory", String(WORKER_BUDGET())]));
}, 60_000);

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `layerstream profile <argv>` in this process: the flags parsed as the command parses them. */
async function profileGeneration(argv: readonly string[], io: CliIo) {
  let flags: GenerateFlags | undefined;
  await addGenerateOptions(new Command("profile"))
    .exitOverride()
    .action((parsed: GenerateFlags) => void (flags = parsed))
    .parseAsync([...argv], { from: "user" });
  const result = await profileWithFlags(flags!, io);
  if (!result) throw new Error("the profiled run was interrupted");
  return result;
}

function quietIo(): CliIo & { out: string } {
  const io = { out: "", writeOut: (s: string) => void (io.out += s), writeErr: () => {}, progress: () => {} };
  return io;
}

const GENERATE = ["--prompt", "once upon a time the little girl", "-n", "10", "--temperature", "0", "--ignore-eos"];

/** Sum of a pass's measured parts: root ops, every hop's queue/codec/IO wait/ops, and the network. */
function partsMs(pass: ProfileRun["passes"][number]): number {
  const hops = pass.hops.reduce(
    (n, hop) => n + hop.queueMs + hop.decodeMs + hop.encodeMs + hop.layers.reduce((m, l) => m + l.ioWaitMs + BLOCK_OPS.reduce((k, op) => k + l.opMs[op], 0), 0),
    0,
  );
  return pass.root.embedding + pass.root.outputHead + pass.root.sampling + hops + pass.networkMs;
}

function expectNumbersAddUp(run: ProfileRun, streamingNodes: number): void {
  const layers = run.passes.flatMap((p) => p.hops.flatMap((h) => h.layers));
  // every (pass, layer) exactly once
  for (const pass of run.passes) expect(pass.hops.flatMap((h) => h.layers.map((l) => l.layer)).sort((a, b) => a - b)).toEqual([...Array(N_LAYER).keys()]);
  // wall time ≈ sum of its parts, within 10%, summed over the run and for every decode pass
  const wall = run.passes.reduce((n, p) => n + p.wallMs, 0);
  expect(Math.abs(wall - run.passes.reduce((n, p) => n + partsMs(p), 0))).toBeLessThanOrEqual(0.1 * wall);
  for (const pass of run.passes) expect(partsMs(pass), JSON.stringify(pass)).toBeLessThanOrEqual(pass.wallMs * 1.1);
  // bytes read = cache misses × layer bytes (every layer is the same size), in the layer timings
  // and in the engine's own counters; the engine's may hold one more read per streaming node:
  // the read-ahead for a next token that was never generated
  const bytesRead = layers.reduce((n, l) => n + l.bytesRead, 0);
  const misses = layers.filter((l) => !l.cacheHit).length;
  expect(misses).toBeGreaterThan(0);
  expect(bytesRead).toBe(misses * layerBytes);
  expect(run.reported.bytesRead).toBe(run.reported.cacheMisses * layerBytes);
  expect(run.reported.cacheMisses - misses).toBeGreaterThanOrEqual(0);
  expect(run.reported.cacheMisses - misses).toBeLessThanOrEqual(streamingNodes);
  expect(layers.filter((l) => l.cacheHit).length).toBe(run.reported.cacheHits);
}

describe("profileGeneration", () => {
  it("profiles a 2-worker streaming run; the numbers add up", async () => {
    const { run, stats } = await profileGeneration(["--model", modelPath, ...GENERATE, "--workers", workers.map((w) => w.address).join(",")], quietIo());
    expect(run.passes).toHaveLength(stats.generatedTokens); // the prompt pass, then one per token but the last
    expect(run.passes[0].phase).toBe("prompt");
    expect(run.passes.slice(1).every((p) => p.phase === "decode" && p.nTokens === 1)).toBe(true);
    expectNumbersAddUp(run, 2);
    // round-robin: 6 stages, each a hop on worker 0 or 1, in layer order
    for (const pass of run.passes) expect(pass.hops.map((h) => h.node)).toEqual([0, 1, 0, 1, 0, 1]);
    // wire bytes: the passes' sum is what the cluster counted
    expect(run.passes.reduce((n, p) => n + p.wireBytes, 0)).toBe(run.reported.wireBytesSent);
    expect(run.reported.wireBytesSent).toBe((stats as { wireBytesSent?: number }).wireBytesSent);
    expect(run.passes.every((p) => p.networkMs > 0)).toBe(true);
    // machine facts of every node
    expect(run.nodes.map((n) => n.node)).toEqual([-1, 0, 1]);
    for (const node of run.nodes) {
      expect(node.cpu.length).toBeGreaterThan(0);
      expect(node.memoryBytes).toBeGreaterThan(0);
    }
    expect(run.nodes[1]).toMatchObject({ layers: [0, 2, 4], layersResident: 2, budgetBytes: WORKER_BUDGET() });
  }, 60_000);

  it("profiles a local streaming run the same way", async () => {
    const { run } = await profileGeneration(["--model", modelPath, ...GENERATE, "--max-memory", String(40 << 20)], quietIo());
    expectNumbersAddUp(run, 1);
    expect(run.passes.every((p) => p.hops.length === 1 && p.hops[0].node === -1 && p.networkMs === 0 && p.wireBytes === 0)).toBe(true);
    expect(run.nodes).toHaveLength(1);
  }, 60_000);

  it("workers keep no timings for runs that are not profiled", async () => {
    const plain = await runCli(["generate", "--model", modelPath, ...GENERATE, "--workers", workers.map((w) => w.address).join(",")]);
    expect(plain.code).toBe(0);
    const { run } = await profileGeneration(["--model", modelPath, ...GENERATE, "-n", "3", "--workers", workers.map((w) => w.address).join(",")], quietIo());
    // only the profiled run's 3 passes: nothing was kept from the plain run before it
    const requestIds = new Set(run.passes.flatMap((p) => p.hops.map((h) => h.requestId)));
    expect(run.passes).toHaveLength(3);
    expect(requestIds.size).toBe(3);
    // and no layer timings of the plain run (after the profiled run of the first test) leaked into them
    for (const pass of run.passes) expect(pass.hops.flatMap((h) => h.layers.map((l) => l.layer)).sort((x, y) => x - y)).toEqual([...Array(N_LAYER).keys()]);
  }, 60_000);

  it("bad flags fail the same way as layerstream generate", async () => {
    await expect(profileGeneration(["--model", path.join(dir, "missing.gguf"), "--prompt", "x"], quietIo())).rejects.toMatchObject({ code: "MODEL_FILE_NOT_FOUND" });
  });
});
