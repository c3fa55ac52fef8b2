import { Command } from "commander";
import { Model } from "../../engine/model/model.js";
import { Session } from "../../engine/session.js";
import { generate, type GenerationTimings } from "../../engine/generate.js";
import { Sampler } from "../../engine/sampling/sampler.js";
import { createRng } from "../../engine/sampling/rng.js";
import { randomSeed } from "../../engine/sampling/randomSeed.js";
import { KV_TYPES, type KvType } from "../../engine/model/kvCache.js";
import { ggmlTypeName } from "../../engine/ggml/types.js";
import { parseByteSizeOption, parseChoice, parseFloatInRange, parseIntInRange } from "../options.js";
import { planMemory, type MemoryPlan } from "../../root/memoryPlan.js";
import { StreamingLayerSource } from "../../engine/streaming/streamingLayerSource.js";
import type { RunProfiler } from "../../root/profiling/runProfiler.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import { DEFAULT_BATCH_SIZE } from "../../engine/session.js";
import type { CliIo } from "../io.js";
import { setUpKernels } from "../kernelSetup.js";
import { Cluster, WIRE_ENCODINGS, type ClusterFlags } from "../../root/cluster/openCluster.js";
import { ASSIGN_MODES } from "../../root/cluster/assignment.js";

export interface GenerateFlags extends ClusterFlags {
  model: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  repeatLastN: number;
  frequencyPenalty: number;
  presencePenalty: number;
  seed?: number;
  ignoreEos: boolean;
  threads?: number;
  ctxSize?: number;
  kvType: KvType;
  maxMemory?: number;
  prefetch?: number;
  keepPageCache: boolean;
  statsJson: boolean;
}

export function generateCommand(io: CliIo): Command {
  return new Command("generate")
    .description("generate text from a prompt")
    .requiredOption("-m, --model <path>", "GGUF model file")
    .requiredOption("-p, --prompt <text>", "prompt text")
    .option("-n, --max-tokens <n>", "most tokens to generate", parseIntInRange(0), 128)
    .option("--temperature <t>", "sampling temperature; 0 = greedy", parseFloatInRange(0), 0.8)
    .option("--top-k <k>", "keep the k most likely tokens; 0 = off", parseIntInRange(0), 40)
    .option("--top-p <p>", "nucleus sampling threshold; 1 = off", parseFloatInRange(0, 1, { minExclusive: true }), 0.95)
    .option("--min-p <p>", "drop tokens below p × the top probability; 0 = off", parseFloatInRange(0, 1), 0.05)
    .option("--repeat-penalty <r>", "penalty for recently seen tokens; 1 = off", parseFloatInRange(0, Infinity, { minExclusive: true }), 1)
    .option("--repeat-last-n <n>", "how many recent tokens the penalties look at", parseIntInRange(0), 64)
    .option("--frequency-penalty <f>", "subtract f × count of each recent token; 0 = off", parseFloatInRange(-2, 2), 0)
    .option("--presence-penalty <f>", "subtract f from each recent token; 0 = off", parseFloatInRange(-2, 2), 0)
    .option("--seed <s>", "random seed (same seed, same text); default: random, printed in the summary", parseIntInRange(0, 2 ** 32 - 1))
    .option("--ignore-eos", "keep generating after end-of-sequence tokens", false)
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores; the TypeScript fallback uses 1)", parseIntInRange(1, 1024))
    .option("-c, --ctx-size <n>", "context size in tokens (default: the model's)", parseIntInRange(1))
    .option("--kv-type <type>", `KV cache type (${KV_TYPES.join(", ")})`, parseChoice(KV_TYPES), "f16")
    .option("--max-memory <size>", "memory budget, e.g. 512MB or 4GB; layers beyond it are streamed from disk (default: available memory − 512 MiB)", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("--keep-page-cache", "leave streamed layers in the OS page cache too (default: drop them once copied, so the kernel holds no second copy)", false)
    .option("--stats-json", "print the run's statistics as one JSON object, the last line on stderr", false)
    .option("--workers <addresses>", "run the layers on workers: comma-separated ZeroMQ addresses, e.g. tcp://10.0.0.2:5555,tcp://10.0.0.3:5555")
    .option("--assign <mode>", `how layers are spread over the workers (${ASSIGN_MODES.join(", ")})`, parseChoice(ASSIGN_MODES), "round-robin")
    .option("--wire <encoding>", `activation encoding between nodes (${WIRE_ENCODINGS.join(", ")})`, parseChoice(WIRE_ENCODINGS), "q8_0")
    .option("--spawn-workers <n>", "start n local worker processes for this run; they stop when it ends", parseIntInRange(1, 255))
    .action(async (flags: GenerateFlags) => {
      await runGenerate(flags, io);
    });
}

export interface GenerateStats extends Omit<GenerationTimings, "promptSeconds" | "generateSeconds"> {
  promptTokensPerSecond: number;
  generatedTokensPerSecond: number;
  promptSeconds: number;
  generateSeconds: number;
  loadSeconds: number;
  peakRssBytes: number;
  seed: number;
  threads: number;
  kernels: string;
  runner: string;
  budgetBytes: number;
  cacheHits: number;
  cacheMisses: number;
  bytesRead: number;
  ioWaitSeconds: number;
  computeSeconds: number;
}

/**
 * @param profiler when given (`npm run profile`), the run is timed per pass, layer and
 *   operation, and the profile document is left in `profiler.result`
 */
export async function runGenerate(flags: GenerateFlags, io: CliIo, profiler?: RunProfiler): Promise<GenerateStats> {
  const loadStart = performance.now();
  const access = flags.maxMemory !== undefined ? "read" : undefined;
  using model = Model.open(flags.model, { kvType: flags.kvType, contextSize: flags.ctxSize, access });
  const promptTokens = model.tokenizer.encode(flags.prompt, { addSpecial: true, parseSpecial: false });
  if (promptTokens.length === 0) promptTokens.push(model.tokenizer.bosId ?? 0);
  const plan = await planMemory(model, {
    maxMemoryBytes: flags.maxMemory,
    prefetchDepth: flags.prefetch,
    nPositions: Math.min(model.contextSize, promptTokens.length + flags.maxTokens),
    nBatch: Math.min(promptTokens.length, DEFAULT_BATCH_SIZE),
  });
  io.progress(describePlan(plan));
  await using cluster = await Cluster.open(model, flags, (line) => io.progress(line));
  const streaming =
    plan.mode === "streaming" && !cluster
      ? await StreamingLayerSource.open(flags.model, model.layers, {
          budgetBytes: plan.layerBudgetBytes,
          prefetchDepth: plan.prefetchDepth,
          keepPageCache: flags.keepPageCache,
        })
      : undefined;
  await using runner = cluster?.runner ?? model.createLocalRunner(streaming);
  const session = new Session(model, runner);
  profiler?.attach(session, runner);
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const { hparams } = model;
  const { choice: kernels, threads } = await setUpKernels(flags.threads, (line) => io.progress(line));
  const seed = flags.seed ?? randomSeed();
  io.progress(
    `model: ${hparams.architecture}, ${hparams.nLayer} layers, ${hparams.nEmbd} embd, ${hparams.nVocab} vocab, ` +
      `${ggmlTypeName(model.head.output.type)} head; kv ${model.kvType}; ctx ${model.contextSize}; runner ${runner.describe()}`,
  );

  const sampler = new Sampler(
    {
      temperature: flags.temperature,
      topK: flags.topK,
      topP: flags.topP,
      minP: flags.minP,
      repeatPenalty: flags.repeatPenalty,
      repeatLastN: flags.repeatLastN,
      frequencyPenalty: flags.frequencyPenalty,
      presencePenalty: flags.presencePenalty,
    },
    createRng(seed),
  );

  const pieces = generate(session, promptTokens, { maxTokens: flags.maxTokens, sampler: profiler ? profiler.timeSampler(sampler) : sampler, ignoreEos: flags.ignoreEos, signal: io.signal });
  let result = await pieces.next();
  while (!result.done) {
    io.writeOut(result.value.text);
    result = await pieces.next();
  }
  io.writeOut("\n");
  const timings = result.value;

  const clusterStats = await cluster?.stats();
  const stats: GenerateStats = {
    ...timings,
    promptTokensPerSecond: rate(timings.promptTokens, timings.promptSeconds),
    generatedTokensPerSecond: rate(timings.generatedTokens, timings.generateSeconds),
    loadSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    seed,
    threads,
    kernels: kernels.description,
    runner: runner.describe(),
    budgetBytes: plan.budgetBytes,
    ...cacheStats(streaming, session.history.length * model.hparams.nLayer),
    computeSeconds: runner.computeSeconds,
    ...clusterStats,
  };
  io.progress(
    `prompt ${stats.promptTokens} tokens (${stats.promptTokensPerSecond.toFixed(1)} tok/s), ` +
      `generated ${stats.generatedTokens} tokens (${stats.generatedTokensPerSecond.toFixed(1)} tok/s, stop: ${stats.stopReason}), ` +
      `load ${loadSeconds.toFixed(2)} s, peak RSS ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MiB, seed ${seed}, kernels ${stats.kernels}`,
  );
  if (streaming) {
    io.progress(
      `cache: ${stats.cacheHits} hits, ${stats.cacheMisses} misses, ${formatBytes(stats.bytesRead)} read, ` +
        `${stats.ioWaitSeconds.toFixed(2)} s waiting for disk, ${stats.computeSeconds.toFixed(2)} s computing`,
    );
  }
  if (clusterStats) {
    io.progress(
      `cluster: ${clusterStats.workers} workers, ${clusterStats.hops} hops per pass, ${formatBytes(clusterStats.wireBytesSent)} on the wire ` +
        `(${clusterStats.wireBytesPerToken.toFixed(0)} B/token), ${clusterStats.networkSeconds.toFixed(2)} s network, ${clusterStats.workerComputeSeconds.toFixed(2)} s worker compute`,
    );
  }
  if (flags.statsJson) io.writeErr(JSON.stringify(stats) + "\n");
  if (profiler) {
    const ownLayers = cluster ? [] : model.layers.map((_, il) => il);
    const layersResident = cluster ? 0 : streaming ? StreamingLayerSource.layersThatFit(model.layers, plan.layerBudgetBytes) : hparams.nLayer;
    await profiler.finish(
      model,
      runner,
      promptTokens.length,
      { budgetBytes: plan.budgetBytes, layers: ownLayers, layersResident, kernels: kernels.description },
      {
        cacheHits: stats.cacheHits,
        cacheMisses: stats.cacheMisses,
        bytesRead: stats.bytesRead,
        wireBytesSent: clusterStats?.wireBytesSent ?? 0,
        wallSeconds: stats.promptSeconds + stats.generateSeconds,
      },
    );
  }
  return stats;
}

function rate(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}

function describePlan(plan: MemoryPlan): string {
  const budget = `memory budget ${formatBytes(plan.budgetBytes)} (${plan.budgetSource})`;
  if (plan.mode === "resident") return `${budget}: all ${formatBytes(plan.modelLayerBytes)} of layers stay resident`;
  return (
    `${budget}: ${formatBytes(plan.modelLayerBytes)} of layers cached in ${formatBytes(Math.min(plan.layerBudgetBytes, plan.modelLayerBytes))}` +
    ` (head, KV cache and buffers ${formatBytes(plan.fixedBytes)}), prefetch ${plan.prefetchDepth}`
  );
}

/** Cache counters; with every layer resident, each layer run is a hit and nothing is read. */
function cacheStats(streaming: StreamingLayerSource | undefined, layerRuns: number) {
  if (!streaming) return { cacheHits: layerRuns, cacheMisses: 0, bytesRead: 0, ioWaitSeconds: 0, readBusySeconds: 0 };
  const { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds } = streaming.snapshot();
  return { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds };
}
