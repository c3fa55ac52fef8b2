/**
 * The LayerRunner contract, held to by this process's runner and by the cluster's alike: any
 * layer range, several sequences in one call (each as if it ran alone), the rows asked for,
 * truncation, counters. The remote runner runs over two real worker processes (f32 wire, so
 * results must be bit-identical to the local runner's).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { Model } from "../../src/engine/model/model.js";
import type { LayerRunner, SequenceBatch } from "../../src/engine/model/layerRunner.js";
import { RemoteLayerRunner } from "../../src/root/cluster/remoteLayerRunner.js";
import { computeModelIdentity } from "../../src/host/modelIdentity.js";
import { PayloadEncoding } from "../../src/protocol/header.js";
import { HopCapture } from "../../src/telemetry/recorder.js";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";
import { testSecurity } from "../helpers/clusterKey.js";
import { startWorker, type WorkerProcess } from "./workerProcess.js";

const N_LAYER = 6;
let dir: string;
let modelPath: string;
let model: Model;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "layerstream-contract-"));
  modelPath = path.join(dir, "model.gguf");
  await writeSyntheticModel(modelPath, { nEmbd: 64, nLayer: N_LAYER, nHead: 4, nHeadKv: 2, nFf: 160, nVocab: 320, weightType: GgmlType.Q8_0, seed: 13 });
  model = Model.open(modelPath, { contextSize: 256 });
  workers.push(...(await Promise.all([startWorker(modelPath), startWorker(modelPath)])));
}, 60_000);
afterAll(async () => {
  model?.dispose();
  await Promise.all(workers.map((w) => w.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const PROMPTS = [[1, 40, 41, 42], [1, 50], [1, 60, 61, 62, 63, 64]];

function embedded(tokens: readonly number[], sequenceId: number, position = 0): SequenceBatch {
  const hidden = new Float32Array(tokens.length * model.hparams.nEmbd);
  model.embed(tokens, hidden);
  return { sequenceId, position, nTokens: tokens.length, hidden };
}

const kinds: [string, () => Promise<LayerRunner>][] = [
  ["local", async () => model.createLocalRunner()],
  [
    "remote (2 workers, contiguous)",
    async () =>
      RemoteLayerRunner.connect({
        addresses: workers.map((w) => w.address),
        assign: "contiguous",
        encoding: PayloadEncoding.F32,
        identity: computeModelIdentity(modelPath, model.file.dataOffset, N_LAYER),
        nEmbd: model.hparams.nEmbd,
        kvType: model.kvType,
        contextSize: model.contextSize,
        security: testSecurity(),
        log: () => {},
      }),
  ],
];

describe.each(kinds)("LayerRunner contract: %s", (_kind, open) => {
  it("runs several sequences in one call exactly as each alone, over any range, returning the rows asked for", async () => {
    await using reference = model.createLocalRunner();
    await using runner = await open();
    const alone = [];
    for (const [i, tokens] of PROMPTS.entries()) alone.push(Array.from((await reference.run([embedded(tokens, i)], { from: 0, to: N_LAYER }, { rows: "all" }))[0]));
    // in two calls that split the model mid-stage ([0,2) then [2,6)), all rows, then check the last rows too
    const first = await runner.run(PROMPTS.map((t, i) => embedded(t, 10 + i)), { from: 0, to: 2 }, { rows: "all" });
    const second = await runner.run(first.map((hidden, i) => ({ sequenceId: 10 + i, position: 0, nTokens: PROMPTS[i].length, hidden: Float32Array.from(hidden) })), { from: 2, to: N_LAYER }, { rows: "all" });
    expect(second.map((h) => Array.from(h))).toEqual(alone);
    const last = await runner.run(PROMPTS.map((t, i) => embedded(t, 20 + i)), { from: 0, to: N_LAYER - 1 }, { rows: "last" });
    const lastAll = await reference.run(PROMPTS.map((t, i) => embedded(t, 30 + i)), { from: 0, to: N_LAYER - 1 }, { rows: "all" });
    const nEmbd = model.hparams.nEmbd;
    expect(last.map((h) => Array.from(h))).toEqual(lastAll.map((h) => Array.from(h.subarray(h.length - nEmbd))));
  });

  it("continues a sequence from its KV cache, forgets it on truncate, and counts what it ran", async () => {
    await using runner = await open();
    const prompt = embedded([1, 40, 41], 5);
    await runner.run([prompt], { from: 0, to: N_LAYER });
    const [next] = await runner.run([embedded([42], 5, 3)], { from: 0, to: N_LAYER });
    const stats = await runner.stats();
    expect(stats.layerRuns).toBeGreaterThanOrEqual(2 * N_LAYER);
    expect(stats.cacheHits).toBe(stats.layerRuns); // every layer resident: every run a hit
    expect(stats.computeSeconds).toBeGreaterThan(0);
    await runner.truncate(5, 0);
    await expect(runner.run([embedded([42], 5, 3)], { from: 0, to: N_LAYER })).rejects.toThrow(/position|holds 0 positions/);
    await using reference = model.createLocalRunner();
    await reference.run([embedded([1, 40, 41], 0)], { from: 0, to: N_LAYER });
    const [expected] = await reference.run([embedded([42], 0, 3)], { from: 0, to: N_LAYER });
    expect(Array.from(next)).toEqual(Array.from(expected));
  });

  it("reports its timing into an enabled recorder", async () => {
    await using runner = await open();
    const capture = new HopCapture();
    await runner.run([embedded([1, 40], 0)], { from: 0, to: N_LAYER }, { recorder: capture });
    await runner.collectTelemetry(capture);
    const layers = capture.hops.flatMap((h) => h.layers.map((l) => l.layer)).sort((a, b) => a - b);
    expect(layers).toEqual([...Array(N_LAYER).keys()]);
  });

  it("rejects a range outside the model", async () => {
    await using runner = await open();
    await expect(runner.run([embedded([1], 0)], { from: 0, to: N_LAYER + 1 })).rejects.toThrow(/outside/);
  });
});
