/**
 * npm run bench:headline -- [--budgets 8,16] [--tokens 5] [--threads 2] [--max-minutes 90] [--cluster-workers 3] [--cluster-budget 5]
 *   [--skip-llama] [--llama-completion BIN] [--keep] [--layers 80]
 *
 * The headline: a Llama-2-70B-shaped Q4_0 model (80 layers, n_embd 8192, n_ff 28672, 64 heads /
 * 8 KV heads, vocab 32000; ~36 GiB of seeded random blocks from the project's writer) on this
 * machine, whose RAM is smaller than the file. Runs, page cache dropped before each:
 * layerstream with each --max-memory budget, then llama.cpp (node-llama-cpp) on the same file
 * with mmap. Each: time to first token, s per decode token, bytes read per token, the disk's
 * bandwidth around the run, the IO lower bound (bytes read per token ÷ bandwidth) and the ratio
 * to it, peak RSS, cache hits/misses. Writes the "headline" section of docs/BENCHMARKS.md.
 *
 * The model is written once (it checks the free disk space first and says how much it needs);
 * it is deleted at the end unless --keep. The whole run stops at --max-minutes: a run still
 * going then is killed and reported as such.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { GgmlType } from "../../src/engine/ggml/types.js";
import { openGgufHeader } from "../../src/engine/gguf/header.js";
import type { SyntheticModelSpec } from "../../src/engine/gguf/syntheticModel.js";
import { benchCacheDir, ensureBenchModel } from "./benchModels.js";
import { canDropCaches } from "./pageCache.js";
import { describeMachine, machineFacts } from "./machine.js";
import { writeSection } from "./report.js";
import { diskBandwidth, runLayerstream, runLlamaCompletion, runLlamaCpp, type HeadlineResult, type RunPlan } from "./headlineRuns.js";

const { values } = parseArgs({
  options: {
    budgets: { type: "string", default: "8,16" },
    tokens: { type: "string", default: "5" },
    threads: { type: "string", default: "2" },
    prompt: { type: "string", default: "Once upon a time" },
    "max-minutes": { type: "string", default: "90" },
    "skip-llama": { type: "boolean", default: false },
    /** llama.cpp's llama-completion binary (built from the source node-llama-cpp bundles); without it, node-llama-cpp's prebuilt library */
    "llama-completion": { type: "string" },
    keep: { type: "boolean", default: false },
    /** local workers for the cluster row (0: none), each with --cluster-budget GiB */
    "cluster-workers": { type: "string", default: "3" },
    "cluster-budget": { type: "string", default: "5" },
    /** fewer layers than 70B's 80: a quick rehearsal of the whole script on a smaller file */
    layers: { type: "string", default: "80" },
  },
});
const log = (line: string) => process.stderr.write(`bench:headline: ${line}\n`);
const GIB = 2 ** 30;
/** how much of the file the bandwidth measurement reads (this VM's disk moves between 0.6 and 2 GB/s) */
const BANDWIDTH_BYTES = 4 * GIB;
const startedMs = Date.now();
const deadlineMs = startedMs + Number(values["max-minutes"]) * 60_000;

/** Llama-2-70B's shape in Q4_0, random blocks (fast to write; only the shape and the bytes matter here). */
const LLAMA_70B: SyntheticModelSpec = {
  nEmbd: 8192, nFf: 28672, nHead: 64, nHeadKv: 8, nVocab: 32000, nCtxTrain: 4096,
  weightType: GgmlType.Q4_0, embdType: GgmlType.Q4_0, outputType: GgmlType.Q4_0, seed: 70, randomBlocks: true,
  nLayer: Number(values.layers),
};

/** Bytes the file will take: every matrix in Q4_0 (18 bytes per 32 values), plus norms and metadata. */
function expectedBytes(spec: SyntheticModelSpec): number {
  const kv = (spec.nEmbd / spec.nHead) * (spec.nHeadKv ?? spec.nHead);
  const perLayer = 2 * spec.nEmbd * spec.nEmbd + 2 * spec.nEmbd * kv + 3 * spec.nEmbd * spec.nFf;
  const values = spec.nLayer * perLayer + 2 * spec.nVocab * spec.nEmbd;
  return Math.ceil((values / 32) * 18 + spec.nLayer * 2 * spec.nEmbd * 4 + 8 * 2 ** 20);
}

function checkDiskSpace(dir: string, nBytes: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const stats = fs.statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  const needed = nBytes + 2 * GIB;
  if (free < needed) throw new Error(`the 70B-shaped model needs ${(needed / 1e9).toFixed(1)} GB free in ${dir} (the file and 2 GB of margin); ${(free / 1e9).toFixed(1)} GB are free`);
  log(`disk: ${(free / 1e9).toFixed(1)} GB free in ${dir}, the model needs ${(nBytes / 1e9).toFixed(1)} GB`);
}

interface Row {
  readonly name: string;
  readonly budgetBytes?: number;
  readonly result?: HeadlineResult;
  readonly error?: string;
  readonly diskBytesPerSecond: number;
}

async function measured(name: string, file: string, budgetBytes: number | undefined, run: () => Promise<HeadlineResult>): Promise<Row> {
  if (Date.now() > deadlineMs - 60_000) return { name, budgetBytes, error: "not run: the time limit was reached", diskBytesPerSecond: 0 };
  log(`${name}…`);
  const before = diskBandwidth(file, BANDWIDTH_BYTES);
  try {
    const result = await run();
    const after = diskBandwidth(file, BANDWIDTH_BYTES);
    log(`${name}: ${result.secondsPerToken.toFixed(1)} s/token, ${(result.bytesPerToken / GIB).toFixed(1)} GiB read/token, TTFT ${result.ttftSeconds.toFixed(0)} s`);
    return { name, budgetBytes, result, diskBytesPerSecond: (before + after) / 2 };
  } catch (error) {
    log(`${name}: ${(error as Error).message}`);
    return { name, budgetBytes, error: (error as Error).message, diskBytesPerSecond: before };
  }
}

function layerBytesOf(file: string): number {
  using header = openGgufHeader(file);
  return header.tensors.filter((t) => t.name.startsWith("blk.")).reduce((sum, t) => sum + t.nBytes, 0);
}

const dir = benchCacheDir();
const name = LLAMA_70B.nLayer === 80 ? "llama2-70b-shape" : `llama2-70b-shape-${LLAMA_70B.nLayer}-layers`;
if (!fs.existsSync(path.join(dir, `${name}-Q4_0.gguf`))) checkDiskSpace(dir, expectedBytes(LLAMA_70B));
const model = await ensureBenchModel(name, LLAMA_70B, log);
const fileBytes = fs.statSync(model).size;
const layerBytes = layerBytesOf(model);
const plan: RunPlan = { model, prompt: values.prompt!, tokens: Number(values.tokens), threads: Number(values.threads), deadlineMs, log };
const rows: Row[] = [];
try {
  for (const gib of values.budgets!.split(",").map(Number).filter((n) => n > 0)) {
    rows.push(await measured(`layerstream --max-memory ${gib}G`, model, gib * GIB, () => runLayerstream(plan, gib * GIB, layerBytes)));
  }
  const nWorkers = Number(values["cluster-workers"]);
  const workerBudget = Number(values["cluster-budget"]) * GIB;
  if (nWorkers > 0) {
    const name = `layerstream, ${nWorkers} local workers of ${values["cluster-budget"]} GiB (loopback)`;
    // --max-memory with --spawn-workers is split equally among the workers
    rows.push(await measured(name, model, workerBudget, () => runLayerstream(plan, workerBudget * nWorkers, layerBytes, ["--spawn-workers", String(nWorkers), "--assign", "auto"])));
  }
  const llamaCompletion = values["llama-completion"];
  if (!values["skip-llama"] && llamaCompletion) rows.push(await measured("llama.cpp llama-completion (mmap, --no-repack)", model, undefined, () => runLlamaCompletion(plan, llamaCompletion)));
  else if (!values["skip-llama"]) rows.push(await measured("llama.cpp via node-llama-cpp (mmap)", model, undefined, () => runLlamaCpp(plan)));
} finally {
  if (!values.keep) {
    fs.rmSync(model, { force: true });
    log(`deleted ${model} (--keep keeps it for the next run)`);
  }
}
const machine = await machineFacts();
const file = writeSection("headline", report(rows));
log(`wrote ${file} in ${((Date.now() - startedMs) / 60_000).toFixed(1)} min`);

function report(runs: readonly Row[]): string {
  const fmt = (n: number, digits = 1) => n.toFixed(digits);
  const lines = [
    "## Headline: a 70B-shaped model on one small machine (`npm run bench:headline`)",
    "",
    `- command: \`npm run bench:headline${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\`; date: ${new Date(startedMs).toISOString()}`,
    `- machine: ${describeMachine(machine)}`,
    `- model: Llama-2-70B's shape in Q4_0 (${LLAMA_70B.nLayer} layers, n_embd 8192, n_ff 28672, 64 heads / 8 KV heads, vocab 32000), ${fmt(fileBytes / GIB)} GiB of seeded random blocks written by the project's writer; layers ${fmt(layerBytes / GIB)} GiB. The file is ${fmt(fileBytes / machine.memoryBytes, 2)}× this machine's RAM`,
    `- each run: prompt "${values.prompt}", ${plan.tokens} tokens greedy, ${plan.threads} threads, context 64; page cache ${canDropCaches() ? "dropped before each run (this VM's disk is what served the reads; the hypervisor may cache below it)" : "NOT dropped (not root)"}`,
    "- s/token: decode tokens after the first; read/token: storage bytes read per decode token (layerstream: its own reads beyond the prompt pass's one read of every layer; llama.cpp: the process's read_bytes, page faults on its mapping); disk GB/s: sequential read of the file's first 4 GiB, cache dropped, before and after the run (mean); IO bound = read/token ÷ that bandwidth. This VM's disk moves between 0.6 and 2 GB/s from minute to minute, so layerstream's rows also give the rate its own reads got (bytes read ÷ time a read was in flight) and the bound at that rate: 1.0× there means the disk never idled while the run waited for layers",
    "",
    "| configuration | TTFT | s/token | read/token | disk GB/s | IO bound s/token | ÷ IO bound | reads got GB/s | ÷ bound at that rate | peak RSS | budget | cache hits / misses |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...runs.map((r) => row(r, fmt)),
    "",
    ...comparison(runs, fmt),
    ...clusterOnPaper(runs, fmt),
  ];
  return lines.join("\n");
}

function row(r: Row, fmt: (n: number, digits?: number) => string): string {
  const budget = r.budgetBytes ? `${fmt(r.budgetBytes / GIB, 0)} GiB` : "–";
  if (!r.result) return `| ${r.name} | – | ${r.error} | | | | | | | | ${budget} | |`;
  const { result } = r;
  const stats = result.stats;
  if (result.bytesPerToken === 0) {
    return `| ${r.name} | ${fmt(result.ttftSeconds, 0)} s | ${fmt(result.secondsPerToken)} | in the workers | ${fmt(r.diskBytesPerSecond / 1e9, 2)} | | | | | ${fmt(result.peakRssBytes / GIB, 2)} GiB (root) | ${budget} each | – |`;
  }
  const bound = result.bytesPerToken / r.diskBytesPerSecond;
  const got = stats && (stats.readBusySeconds ?? 0) > 0 ? stats.bytesRead / stats.readBusySeconds! : 0;
  const atGot = got > 0 ? `${fmt(got / 1e9, 2)} | ${fmt(result.secondsPerToken / (result.bytesPerToken / got), 2)}×` : "– | –";
  const cache = stats ? `${stats.cacheHits} / ${stats.cacheMisses}` : "–";
  const rss = `${fmt(result.peakRssBytes / GIB, 2)} GiB${r.name.includes("workers") ? " (root)" : ""}`;
  return `| ${r.name} | ${fmt(result.ttftSeconds, 0)} s | ${fmt(result.secondsPerToken)} | ${fmt(result.bytesPerToken / GIB)} GiB | ${fmt(r.diskBytesPerSecond / 1e9, 2)} | ${fmt(bound)} | ${fmt(result.secondsPerToken / bound, 2)}× | ${atGot} | ${rss} | ${budget} | ${cache} |`;
}

/** layerstream against llama.cpp, and the targets, in words. */
function comparison(runs: readonly Row[], fmt: (n: number, digits?: number) => string): string[] {
  const llama = runs.find((r) => r.name.startsWith("llama.cpp"))?.result;
  const lines: string[] = [];
  for (const r of runs) {
    const { result } = r;
    if (!r.budgetBytes || !result || result.bytesPerToken === 0 || r.name.includes("workers")) continue;
    const rssOk = result.peakRssBytes <= r.budgetBytes! + 200 * 2 ** 20;
    const versus = llama ? `; llama.cpp ÷ layerstream: ${fmt(llama.secondsPerToken / result.secondsPerToken, 2)}× (s/token)` : "";
    lines.push(`- ${r.name}: ${fmt(result.secondsPerToken)} s/token${versus}; peak RSS ${fmt(result.peakRssBytes / GIB, 2)} GiB against budget + 200 MB: ${rssOk ? "within" : "over"}`);
  }
  return lines.length > 0 ? [...lines, ""] : [];
}

/**
 * Three machines, each with the smallest budget of this run and its own disk, on paper: auto
 * placement gives each a third of the layers; what a worker does not hold it reads per token.
 */
function clusterOnPaper(runs: readonly Row[], fmt: (n: number, digits?: number) => string): string[] {
  const small = runs.find((r) => r.budgetBytes && r.result?.stats);
  if (!small?.result?.stats) return [];
  const { stats } = small.result;
  const budget = small.budgetBytes!;
  const share = layerBytes / 3;
  const readPerWorker = Math.max(0, share - budget * 0.9);
  const rate = stats.bytesRead / Math.max(1e-9, stats.readBusySeconds ?? 0);
  const computePerToken = stats.computeSeconds / Math.max(1, stats.generatedTokens);
  const ioSeconds = readPerWorker / rate;
  const hopSeconds = 3 * (0.3e-3 + (8192 * 1.0625 + 24) / 125e6);
  const estimate = Math.max(ioSeconds, computePerToken) + hopSeconds;
  return [
    "**Three machines, on paper.** The multi-host part (three workers in network namespaces with `tc netem` 1 Gbit/s, 0.3 ms) cannot run here: this kernel has no `sch_netem`, and three 8 GiB workers would need more RAM than this one machine has. The arithmetic from this run's numbers:",
    "",
    `- \`--assign auto\` on three equal machines gives each a third of the layers, ${fmt(share / GIB)} GiB; with a ${fmt(budget / GIB, 0)} GiB budget each keeps ~${fmt((budget * 0.9) / GIB)} GiB of it and reads ${fmt(readPerWorker / GIB)} GiB per token from its own disk: ${fmt(ioSeconds)} s at the ${fmt(rate / 1e9, 2)} GB/s this run's reads got, overlapped with the other two machines' compute (each worker prefetches its next window while the others run);`,
    `- compute per token (this run: ${fmt(computePerToken)} s on 2 cores) is split the same way, one third per machine, but the three thirds run one after another for a single sequence;`,
    `- the wire adds 3 hops × (0.3 ms + one Q8_0 activation row of 8.7 KB at 1 Gbit/s) = ${fmt(hopSeconds * 1000)} ms;`,
    `- so about max(${fmt(ioSeconds)}, ${fmt(computePerToken)}) + ${fmt(hopSeconds * 1000, 1)} ms ≈ **${fmt(estimate)} s/token** for one sequence, against ${fmt(small.result.secondsPerToken)} s/token on one machine with the same budget; several sequences at once (\`--parallel\`) fill the pipeline so all three compute at the same time.`,
    "",
  ];
}
