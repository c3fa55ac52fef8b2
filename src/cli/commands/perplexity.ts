/**
 * `layerstream perplexity`: llama-perplexity's measurement over the API's `model.perplexity()` —
 * the text of --file in chunks of --ctx-size tokens, the running estimate per chunk on stdout
 * (`[1]12.3456,[2]…`) and then `Final estimate: PPL = X +/- Y`, or one JSON object with --json.
 * The model loads like generate's: in RAM, streamed under --max-memory, or on workers.
 */
import fs from "node:fs/promises";
import { Command } from "commander";
import { loadModel } from "../../api/loadModel.js";
import { KV_TYPES, MAX_CONTEXT_SIZE, VERIFY_MODES, type KvType, type VerifyMode } from "../../api/options.js";
import { perplexityTokens, planChunks, type PerplexityResult } from "../../api/perplexity.js";
import { openGgufHeader } from "../../engine/gguf/header.js";
import { loadTokenizer } from "../../engine/tokenizer/index.js";
import { formatChunkPerplexity, formatFinalEstimate } from "../../api/perplexityMath.js";
import { AbortError, OptionError } from "../../engine/errors.js";
import { parseByteSizeOption, parseChoice, parseIntInRange } from "../options.js";
import { FLASH_ATTN_CHOICES, FLASH_ATTN_HELP, memoryLoadOptions, NO_REPACK_HELP, type FlashAttnChoice } from "../loadFlags.js";
import type { CliIo } from "../io.js";
import { progressReporter } from "../progressBar.js";
import { resolveForRun } from "../modelForRun.js";
import { addClusterOptions, clusterLoadOptions, type ClusterCliFlags } from "../clusterOptions.js";

export interface PerplexityFlags extends ClusterCliFlags {
  model?: string;
  file: string;
  ctxSize: number;
  chunks?: number;
  threads?: number;
  kvType: KvType;
  flashAttn: FlashAttnChoice;
  /** false with --no-repack */
  repack: boolean;
  maxMemory?: number;
  prefetch?: number;
  keepPageCache: boolean;
  checkTensors: boolean;
  verify: VerifyMode;
  json: boolean;
}

/** llama-perplexity's default --ctx-size */
export const DEFAULT_PERPLEXITY_CONTEXT = 512;

export function perplexityCommand(io: CliIo): Command {
  const command = new Command("perplexity")
    .description("measure a model's perplexity on a text file, as llama-perplexity does (chunks of --ctx-size tokens, the second half of each scored)")
    .option("-m, --model <model>", "GGUF file path, cached or built-in model name, or a source pulled on first use; default: the built-in model")
    .requiredOption("-f, --file <path>", "the text to measure (at least 2 × --ctx-size tokens)")
    .option("-c, --ctx-size <n>", "tokens per chunk; the first half of each is context, the second half is scored", parseIntInRange(4, MAX_CONTEXT_SIZE), DEFAULT_PERPLEXITY_CONTEXT)
    .option("--chunks <k>", "evaluate at most k chunks (default: every whole chunk of the text)", parseIntInRange(1))
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores)", parseIntInRange(1, 1024))
    .option("--kv-type <type>", `KV cache type (${KV_TYPES.join(", ")})`, parseChoice(KV_TYPES), "f16")
    .option("--flash-attn <mode>", FLASH_ATTN_HELP, parseChoice(FLASH_ATTN_CHOICES), "auto")
    .option("--no-repack", NO_REPACK_HELP)
    .option("--max-memory <size>", "memory budget, e.g. 512MB or 4GB; layers beyond it are streamed from disk", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("--keep-page-cache", "leave streamed layers in the OS page cache too", false)
    .option("--check-tensors", "read every weight at load and refuse NaN or Inf values, naming the tensor", false)
    .option("--verify <mode>", `model file check (${VERIFY_MODES.join(", ")})`, parseChoice(VERIFY_MODES), "sampled")
    .option("--json", "print the result as one JSON object on stdout (instead of llama-perplexity's lines)", false);
  return addClusterOptions(command, "when the run ends").action(async (flags: PerplexityFlags) => {
    await runPerplexity(flags, io);
  });
}

/** @returns the result; undefined when interrupted (Ctrl-C) */
export async function runPerplexity(flags: PerplexityFlags, io: CliIo): Promise<PerplexityResult | undefined> {
  const text = await readTextFile(flags.file);
  const cluster = clusterLoadOptions(flags); // a bad --workers list fails before anything is loaded
  const progress = progressReporter();
  const { path } = await resolveForRun({ model: flags.model, ctxSize: flags.ctxSize, maxTokens: 0 }, "", io);
  checkTextLength(path, text, flags);
  await using model = await loadModel({
    model: path,
    contextSize: flags.ctxSize,
    ...memoryLoadOptions(flags),
    ...cluster,
    checkTensors: flags.checkTensors,
    verify: flags.verify,
    onProgress: progress.report,
    log: (line) => io.progress(line),
  });
  progress.stop();
  const { info } = model;
  io.progress(`model: ${info.name}, ${info.architecture}, ${info.layers} layers, ${info.quantization}; runner ${info.runner}`);
  let result: PerplexityResult;
  let printed = false;
  try {
    result = await model.perplexity(text, {
      contextSize: flags.ctxSize,
      chunks: flags.chunks,
      signal: io.signal,
      onChunk: ({ chunk, perplexity }) => {
        if (flags.json) return;
        io.writeOut(formatChunkPerplexity(chunk, perplexity));
        printed = true;
      },
    });
  } catch (error) {
    if (printed) io.writeOut("\n");
    if (error instanceof AbortError) return undefined;
    throw error;
  }
  if (flags.json) io.writeOut(JSON.stringify(result) + "\n");
  else io.writeOut(`\n${formatFinalEstimate(result.perplexity, result.standardError)}\n`);
  io.progress(`${result.chunks} chunks of ${result.contextSize} tokens (${result.scoredTokens} scored of ${result.textTokens}), ${result.seconds.toFixed(2)} s, ${result.tokensPerSecond.toFixed(1)} tok/s`);
  return result;
}

/**
 * A text too short for --ctx-size fails before the model loads: it is tokenized with the file's
 * own tokenizer (the header alone). A header that cannot be read is left for loading to report.
 * @throws OptionError TEXT_TOO_SHORT naming the tokens needed
 */
function checkTextLength(path: string, text: string, flags: PerplexityFlags): void {
  let nTokens: number;
  try {
    using file = openGgufHeader(path);
    nTokens = perplexityTokens(loadTokenizer(file), text).length;
  } catch {
    return;
  }
  planChunks(nTokens, { contextSize: flags.ctxSize, chunks: flags.chunks }, Infinity);
}

async function readTextFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new OptionError("BAD_TEXT_FILE", `cannot read the text file ${file}: ${why}`);
  }
}
