/**
 * npm run fuzz -- [--seed S] [--gguf N] [--frames N] [--live-frames N] [--max-seconds T] [--parallel P] [--worker-args="--insecure …"] [--no-report]
 *
 * Seeded, bounded fuzzing of every entry point that reads untrusted bytes:
 * - GGUF: N mutations (default 100,000) of real and synthetic models through parseGguf,
 *   openGgufHeader, Model.open + a short generation (resident, streamed, --check-tensors) and
 *   the inspect command, in child processes under a watchdog (ggufFuzz.ts);
 * - frames: N mutated and random cluster messages (default 1,000,000) through the frame and
 *   payload decoders in this process, and --live-frames of the same stream (default 50,000)
 *   to a real worker process over ZeroMQ, which must keep answering PING (liveWorker.ts).
 * Counts clean errors / accepted / crashes / hangs and peak RSS; writes the "fuzz" section of
 * docs/BENCHMARKS.md (unless --no-report) and exits 1 if anything crashed or hung.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeSyntheticModel } from "../../src/engine/gguf/syntheticModel.js";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { openGgufHeader } from "../../src/engine/gguf/header.js";
import { computeModelIdentity } from "../../src/host/modelIdentity.js";
import { fuzzGguf, totalCrashes } from "./ggufFuzz.js";
import { fuzzFramesInProcess } from "./framesInProcess.js";
import { fuzzLiveWorker } from "./liveWorker.js";
import { fuzzMarkdown } from "./report.js";
import { writeSection } from "../bench/report.js";
import { describeMachine, machineFacts } from "../bench/machine.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    gguf: { type: "string", default: "100000" },
    frames: { type: "string", default: "1000000" },
    "live-frames": { type: "string", default: "50000" },
    "max-seconds": { type: "string", default: "7200" },
    parallel: { type: "string", default: String(Math.max(1, Math.min(4, os.availableParallelism()))) },
    "worker-args": { type: "string" },
    "no-report": { type: "boolean", default: false },
    /** a line added to the report (e.g. why the worker ran with the flags it did) */
    note: { type: "string" },
  },
});
const log = (line: string) => process.stderr.write(`fuzz: ${line}\n`);
const count = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: ${values[name]} is not a whole number`);
  return n;
};
const seed = count("seed");
/** wall-clock deadline (epoch ms): every phase stops there and the report says so */
const deadlineMs = Date.now() + count("max-seconds") * 1000;
const REPO = path.resolve(import.meta.dirname, "../..");

/** The seed files: real models that ship with layerstream, and synthetic ones of other shapes and types. */
async function seedFiles(dir: string): Promise<string[]> {
  const synthetic = [
    { name: "llama-q8_0.gguf", spec: { nEmbd: 32, nLayer: 2, nHead: 2, nFf: 64, nVocab: 300, weightType: GgmlType.Q8_0, seed: 1 } },
    { name: "qwen2-f16.gguf", spec: { architecture: "qwen2", nEmbd: 64, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 96, nVocab: 300, weightType: GgmlType.F16, seed: 2 } },
    { name: "llama-q4_k.gguf", spec: { nEmbd: 256, nLayer: 1, nHead: 4, nFf: 256, nVocab: 300, weightType: GgmlType.Q4_K, outputType: GgmlType.Q6_K, seed: 3 } },
  ];
  const files = [];
  for (const { name, spec } of synthetic) {
    await writeSyntheticModel(path.join(dir, name), spec);
    files.push(path.join(dir, name));
  }
  return [...files, path.join(REPO, "models/stories260K.gguf"), path.join(REPO, "models/TinyStories-656K-Q8_0.gguf")];
}

/** Flags the worker needs to accept a plain connection: --insecure once the worker has it. */
function defaultWorkerArgs(): string[] {
  if (values["worker-args"] !== undefined) return values["worker-args"].split(/\s+/).filter((a) => a.length > 0);
  const help = execFileSync(process.execPath, [path.join(REPO, "bin/layerstream.js"), "worker", "--help"], { encoding: "utf8" });
  return help.includes("--insecure") ? ["--insecure"] : [];
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "layerstream-fuzz-"));
  try {
    const started = new Date();
    const seeds = await seedFiles(workDir);
    log(`seed ${seed}; ${seeds.length} seed files; gguf ${count("gguf")}, frames ${count("frames")} in-process + ${count("live-frames")} live`);
    const gguf = await fuzzGguf({ seed, count: count("gguf"), seeds, workDir, parallel: count("parallel"), hangMs: 60_000, deadlineMs, log });
    log(`gguf: done, ${totalCrashes(gguf)} crashes, ${gguf.hangs.length} hangs, ${gguf.seconds.toFixed(0)} s`);
    const liveModel = seeds[0];
    const shape = frameShape(liveModel);
    const frames = fuzzFramesInProcess({ seed, count: count("frames"), shape, deadlineMs, log });
    log(`frames in-process: done, ${frames.crashes} crashes, ${frames.seconds.toFixed(0)} s`);
    const workerArgs = defaultWorkerArgs();
    const live = await fuzzLiveWorker({ seed, count: count("live-frames"), modelPath: liveModel, workerArgs, shape, pingEvery: 1000, stallMs: 60_000, deadlineMs, log });
    log(`live worker: done, ${live.crashes} crashes, ${live.hangs} hangs, ${live.seconds.toFixed(0)} s`);
    const markdown = fuzzMarkdown({ seed, started, gguf, frames, live, workerArgs, seedNames: seeds.map((s) => path.basename(s)), argv: process.argv.slice(2), machine: describeMachine(await machineFacts()), note: values.note });
    process.stdout.write(markdown + "\n");
    if (!values["no-report"]) log(`wrote ${writeSection("fuzz", markdown)}`);
    const failed = totalCrashes(gguf) + gguf.hangs.length + frames.crashes + live.crashes + live.hangs + live.stderrProblems;
    process.exitCode = failed > 0 ? 1 : 0;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** What the live worker serves: its model's width, depth and identity (HELLO seeds must match it to reach ASSIGN). */
function frameShape(modelPath: string) {
  using file = openGgufHeader(modelPath);
  const nLayer = file.tensors.filter((t) => t.name.endsWith(".attn_norm.weight")).length;
  const nEmbd = file.tensorsByName.get("token_embd.weight")!.dims[0];
  return { nEmbd, nLayer, identity: computeModelIdentity(modelPath, file.dataOffset, nLayer) };
}

await main();
