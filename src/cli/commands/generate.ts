/**
 * `layerstream generate`: a thin layer over the API — flags become `loadModel()` and completion
 * options, pieces go to stdout, progress and the summary to stderr.
 */
import { Command, Option } from "commander";
import { loadModel } from "../../api/loadModel.js";
import type { LoadedModel } from "../../api/loadedModel.js";
import type { CompletionResult } from "../../api/completionStream.js";
import { KV_TYPES, DEFAULT_MAX_TOKENS, MAX_CONTEXT_SIZE, VERIFY_MODES, type KvType, type VerifyMode } from "../../api/options.js";
import type { ModelStats } from "../../api/modelStats.js";
import { AbortError } from "../../engine/errors.js";
import { DEFAULT_SAMPLER_OPTIONS } from "../../engine/sampling/options.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import type { RunProfiler } from "../../profile/runProfiler.js";
import { parseByteSizeOption, parseChoice, parseFloatInRange, parseIntInRange } from "../options.js";
import { FLASH_ATTN_CHOICES, FLASH_ATTN_HELP, memoryLoadOptions, NO_REPACK_HELP, type FlashAttnChoice } from "../loadFlags.js";
import type { CliIo } from "../io.js";
import { progressReporter } from "../progressBar.js";
import { readPrompt } from "../prompt.js";
import { resolveForRun } from "../modelForRun.js";
import { addClusterOptions, clusterLoadOptions, type ClusterCliFlags } from "../clusterOptions.js";

export interface GenerateFlags extends ClusterCliFlags {
  model?: string;
  prompt?: string;
  file?: string;
  maxTokens: number;
  temperature: number;
  temp?: number;
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
  flashAttn: FlashAttnChoice;
  /** false with --no-repack */
  repack: boolean;
  maxMemory?: number;
  prefetch?: number;
  keepPageCache: boolean;
  statsJson: boolean;
  checkTensors: boolean;
  verify: VerifyMode;
}

const D = DEFAULT_SAMPLER_OPTIONS;

export function generateCommand(io: CliIo): Command {
  return addGenerateOptions(new Command("generate").description("generate text from a prompt (default model: the built-in TinyStories-656K)")).action(async (flags: GenerateFlags) => {
    await runGenerate(flags, io);
  });
}

/** generate's flags, also taken by `layerstream profile`. */
export function addGenerateOptions(command: Command): Command {
  command
    .option("-m, --model <model>", "GGUF file path, cached or built-in model name, or a source pulled on first use (hf:owner/repo:Q4_K_M, hf:owner/repo/file.gguf, https://…); default: the built-in model")
    .option("-p, --prompt <text>", "prompt text; - reads it from stdin")
    .option("-f, --file <path>", "read the prompt from a file")
    .option("-n, --max-tokens <n>", "most tokens to generate", parseIntInRange(0), DEFAULT_MAX_TOKENS)
    .option("--temperature <t>", "sampling temperature; 0 = greedy", parseFloatInRange(0), D.temperature)
    .addOption(new Option("--temp <t>", "alias of --temperature (llama.cpp's name)").argParser(parseFloatInRange(0)))
    .option("--top-k <k>", "keep the k most likely tokens; 0 = off", parseIntInRange(0), D.topK)
    .option("--top-p <p>", "nucleus sampling threshold; 1 = off", parseFloatInRange(0, 1, { minExclusive: true }), D.topP)
    .option("--min-p <p>", "drop tokens below p × the top probability; 0 = off", parseFloatInRange(0, 1), D.minP)
    .option("--repeat-penalty <r>", "penalty for recently seen tokens; 1 = off", parseFloatInRange(0, Infinity, { minExclusive: true }), D.repeatPenalty)
    .option("--repeat-last-n <n>", "how many recent tokens the penalties look at", parseIntInRange(0), D.repeatLastN)
    .option("--frequency-penalty <f>", "subtract f × count of each recent token; 0 = off", parseFloatInRange(-2, 2), D.frequencyPenalty)
    .option("--presence-penalty <f>", "subtract f from each recent token; 0 = off", parseFloatInRange(-2, 2), D.presencePenalty)
    .option("--seed <s>", "random seed (same seed, same text); default: random, printed in the summary", parseIntInRange(0, 2 ** 32 - 1))
    .option("--ignore-eos", "keep generating after end-of-sequence tokens", false)
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores; the TypeScript fallback uses 1)", parseIntInRange(1, 1024))
    .option("-c, --ctx-size <n>", "context size in tokens (default: what the prompt and --max-tokens need, at most the model's)", parseIntInRange(1, MAX_CONTEXT_SIZE))
    .option("--kv-type <type>", `KV cache type (${KV_TYPES.join(", ")})`, parseChoice(KV_TYPES), "f16")
    .option("--flash-attn <mode>", FLASH_ATTN_HELP, parseChoice(FLASH_ATTN_CHOICES), "auto")
    .option("--no-repack", NO_REPACK_HELP)
    .option("--max-memory <size>", "memory budget, e.g. 512MB or 4GB; layers beyond it are streamed from disk (default: available memory − 512 MiB)", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("--keep-page-cache", "leave streamed layers in the OS page cache too (default: drop them once copied, so the kernel holds no second copy)", false)
    .option("--stats-json", "print the run's statistics as one JSON object, the last line on stderr", false)

    .option("--check-tensors", "read every weight at load and refuse NaN or Inf values, naming the tensor (llama.cpp's flag)", false)
    .option("--verify <mode>", `model file check (${VERIFY_MODES.join(", ")}): full hashes the whole file (cached; see layerstream verify) and requires full hashes on every worker`, parseChoice(VERIFY_MODES), "sampled");
  return addClusterOptions(command, "when the run ends");
}

export interface GenerateStats extends Omit<ModelStats, "cluster"> {
  promptTokens: number;
  generatedTokens: number;
  stopReason: CompletionResult["stopReason"];
  seed: number;
  [clusterKey: string]: unknown;
}

/**
 * @param profiler when given (`layerstream profile`), the run is timed per pass, layer and
 *   operation, and the profile document is left in `profiler.result`
 * @returns the --stats-json object; undefined when the run was interrupted (Ctrl-C, closed stdout)
 */
export async function runGenerate(flags: GenerateFlags, io: CliIo, profiler?: RunProfiler): Promise<GenerateStats | undefined> {
  const prompt = await readPrompt(flags);
  const cluster = clusterLoadOptions(flags); // a bad --workers list fails before anything is loaded
  const progress = progressReporter();
  const { path, contextSize } = await resolveForRun(flags, prompt, io);
  await using model = await loadModel({
    model: path,
    contextSize,
    ...memoryLoadOptions(flags),
    ...cluster,
    checkTensors: flags.checkTensors,
    verify: flags.verify,
    onProgress: progress.report,
    log: (line) => io.progress(line),
  });
  progress.stop();
  const { info } = model;
  io.progress(`model: ${info.name}, ${info.architecture}, ${info.layers} layers, ${info.embeddingSize} embd, ${info.vocabularySize} vocab, ${info.quantization}; ctx ${info.contextSize}; runner ${info.runner}`);
  const result = await writeCompletion(model, prompt, flags, io, progress.report, profiler);
  progress.stop();
  if (!result) return undefined;
  const stats = await model.stats();
  const summary = generateStats(result, stats);
  printSummary(summary, stats, io);
  if (flags.statsJson) io.writeErr(JSON.stringify(summary) + "\n");
  if (profiler) await finishProfile(profiler, model, result, summary);
  return summary;
}

/** Streams the completion to stdout; undefined when interrupted (the text so far is written). */
async function writeCompletion(model: LoadedModel, prompt: string, flags: GenerateFlags, io: CliIo, onProgress: ReturnType<typeof progressReporter>["report"], profiler?: RunProfiler): Promise<CompletionResult | undefined> {
  const options = {
    maxTokens: flags.maxTokens,
    temperature: flags.temp ?? flags.temperature,
    topK: flags.topK,
    topP: flags.topP,
    minP: flags.minP,
    repeatPenalty: flags.repeatPenalty,
    repeatLastN: flags.repeatLastN,
    frequencyPenalty: flags.frequencyPenalty,
    presencePenalty: flags.presencePenalty,
    seed: flags.seed,
    ignoreEos: flags.ignoreEos,
    signal: io.signal,
    onProgress,
  };
  const stream = model.streamObserved(prompt, options, profiler);
  try {
    for await (const piece of stream) io.writeOut(piece);
    return await stream.result;
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
    return undefined;
  } finally {
    io.writeOut("\n");
  }
}

function generateStats(result: CompletionResult, stats: ModelStats): GenerateStats {
  const { cluster, ...rest } = stats;
  return {
    ...rest,
    promptTokens: result.usage.promptTokens,
    generatedTokens: result.usage.completionTokens,
    promptSeconds: result.timings.promptSeconds,
    generateSeconds: result.timings.generateSeconds,
    promptTokensPerSecond: result.timings.promptTokensPerSecond,
    generatedTokensPerSecond: result.timings.generatedTokensPerSecond,
    stopReason: result.stopReason,
    seed: result.seed,
    ...(cluster ?? {}),
  };
}

function printSummary(summary: GenerateStats, stats: ModelStats, io: CliIo): void {
  io.progress(
    `prompt ${summary.promptTokens} tokens (${summary.promptTokensPerSecond.toFixed(1)} tok/s), ` +
      `generated ${summary.generatedTokens} tokens (${summary.generatedTokensPerSecond.toFixed(1)} tok/s, stop: ${summary.stopReason}), ` +
      `load ${stats.loadSeconds.toFixed(2)} s, peak RSS ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MiB, seed ${summary.seed}, kernels ${stats.kernels}`,
  );
  if (stats.cacheMisses > 0) {
    io.progress(
      `cache: ${stats.cacheHits} hits, ${stats.cacheMisses} misses, ${formatBytes(stats.bytesRead)} read, ` +
        `${stats.ioWaitSeconds.toFixed(2)} s waiting for disk, ${stats.computeSeconds.toFixed(2)} s computing`,
    );
  }
  const c = stats.cluster;
  if (c) {
    io.progress(
      `cluster: ${c.workers} workers, ${c.hops} hops per pass, ${formatBytes(c.wireBytesSent)} on the wire ` +
        `(${c.wireBytesPerToken.toFixed(0)} B/token), ${c.networkSeconds.toFixed(2)} s network, ${c.workerComputeSeconds.toFixed(2)} s worker compute`,
    );
  }
}

async function finishProfile(profiler: RunProfiler, model: LoadedModel, result: CompletionResult, summary: GenerateStats): Promise<void> {
  const { core } = model;
  const { plan, layers } = core.host;
  await profiler.finish(
    core.model,
    core.runner,
    result.usage.promptTokens,
    { budgetBytes: plan.budgetBytes, layers: [...layers], layersResident: layers.length === 0 ? 0 : plan.layersResident, kernels: core.kernels },
    {
      cacheHits: summary.cacheHits,
      cacheMisses: summary.cacheMisses,
      bytesRead: summary.bytesRead,
      wireBytesSent: typeof summary.wireBytesSent === "number" ? summary.wireBytesSent : 0,
      wallSeconds: summary.promptSeconds + summary.generateSeconds,
    },
  );
}
