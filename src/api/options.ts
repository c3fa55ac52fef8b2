/**
 * The options of `loadModel()` and of a completion, with their checks: an unknown option or a
 * value of the wrong kind is an `OptionError` naming it, before anything is loaded or run.
 */
import { OptionError } from "../engine/errors.js";
import { KV_TYPES, type KvType } from "../engine/model/kvCache.js";
import { MAX_CONTEXT_SIZE } from "../engine/model/hparams.js";
import { VERIFY_MODES, type VerifyMode } from "../host/modelIdentity.js";
import { DEFAULT_SAMPLER_OPTIONS, type SamplerOptions } from "../engine/sampling/options.js";
import { parseByteSize } from "../engine/streaming/byteSize.js";
import { ASSIGN_MODES, type AssignMode } from "../root/cluster/assignment.js";
import { WIRE_ENCODINGS, type WireName } from "../root/cluster/openCluster.js";

export { ASSIGN_MODES, WIRE_ENCODINGS, KV_TYPES, VERIFY_MODES, MAX_CONTEXT_SIZE, type AssignMode, type WireName, type KvType, type VerifyMode };

/** Progress of long work: a download, bringing a model's layers into memory, a long prompt. */
export interface ProgressEvent {
  readonly phase: "download" | "load" | "prompt";
  readonly done: number;
  /** 0 when unknown (a download without a size) */
  readonly total: number;
  readonly unit: "bytes" | "layers" | "tokens";
}

export interface LoadModelOptions {
  /**
   * A GGUF file path, the name of a cached or built-in model, or a source that is pulled on
   * first use (`hf:owner/repo:Q4_K_M`, `hf:owner/repo/file.gguf`, an https URL). Omitted: the
   * built-in default model (TinyStories-656K, Q8_0).
   */
  readonly model?: string;
  /**
   * Memory budget for everything this process holds for the model (bytes, or a size such as
   * "4GB"): head, KV cache, buffers and the layers it runs; layers beyond it stream from disk.
   * Omitted: a model that fits in available memory stays resident, a larger one streams.
   */
  readonly maxMemory?: number | string;
  /** layers read ahead while one computes (default 1; 0 when the budget holds one layer) */
  readonly prefetch?: number;
  /** leave streamed layers in the OS page cache too (default false: dropped once copied) */
  readonly keepPageCache?: boolean;
  /** compute threads of the native kernels (default: physical cores) */
  readonly threads?: number;
  /** most positions per sequence (default: the model's training context, at most 4096; at most 2^24) */
  readonly contextSize?: number;
  /** KV cache element type (default f16, as llama.cpp) */
  readonly kvType?: KvType;
  /**
   * Flash attention with llama.cpp's CPU numerics (its `-fa on`: online softmax, half-precision
   * accumulation for short batches): greedy output equals llama.cpp's default; false: the classic
   * path (llama.cpp's `-fa off`). Default: true.
   */
  readonly flashAttention?: boolean;
  /**
   * Pack resident weights for the matmul kernels at load, as llama.cpp's CPU repack does (its
   * `--no-repack` is false): Q4_0, IQ4_NL and Q4_K on AVX-512 stream one contiguous run per 16 rows,
   * decoding faster with the same bits; memory holds the packed copy instead of the file's pages.
   * Default: true.
   */
  readonly repack?: boolean;
  /** run the layers on workers: their addresses (`tcp://host:port`), or a number of local workers to start */
  readonly workers?: readonly string[] | number;
  /**
   * how layers are spread over workers: "auto" (default: shares by each worker's memory and
   * speed, windows in a ring when the cluster's memory is smaller than the model),
   * "round-robin", "contiguous", or explicit ranges "0-9@host:port,10-21@host:port"
   */
  readonly assign?: AssignMode | string;
  /** activation encoding between nodes (default q8_0) */
  readonly wire?: WireName;
  /**
   * Sequences generated at once (default 1): concurrent calls share every forward pass — one
   * read of each layer serves them all — and each has its own KV cache (the memory plan makes
   * room for this many).
   */
  readonly parallel?: number;
  /** calls that may wait for a free sequence slot before new ones fail with QueueFullError (default 64) */
  readonly maxQueue?: number;
  /**
   * keep finished sequences' KV caches (up to `parallel`, 5 minutes each) so a prompt that starts
   * with one's tokens — a chat's next turn, a shared system prompt — evaluates only the rest
   * (default true; llama-server's cache_prompt)
   */
  readonly promptCache?: boolean;
  /** read every weight at load and refuse NaN or Inf values, naming the tensor (llama.cpp's --check-tensors; default false) */
  readonly checkTensors?: boolean;
  /**
   * How the model file is checked against the workers' (and the hash recorded at download):
   * "sampled" (default) compares full sha256 hashes when both sides have one cached (`layerstream
   * verify`), else the sampled fingerprints; "full" hashes the whole file now unless cached and
   * requires full hashes everywhere.
   */
  readonly verify?: VerifyMode;
  /** the cluster key file workers share (default: $XDG_CONFIG_HOME/layerstream/cluster.key; local workers get a fresh key) */
  readonly clusterKey?: string;
  /** plaintext links to workers started with --insecure: no encryption, no authentication (logs a warning) */
  readonly insecure?: boolean;
  /** a worker that stops answering is lost after this long and its layers move to the others (default 2000) */
  readonly heartbeatTimeoutMs?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** one line per notable event while loading (memory plan, workers, layer assignment) */
  readonly log?: (line: string) => void;
  /** aborts a download or the wait for workers */
  readonly signal?: AbortSignal;
}

/** llama.cpp's sampler settings (temperature, topK, topP, minP, penalties); any left out take llama.cpp's defaults. */
export type SamplingOptions = Partial<SamplerOptions>;

export interface CompletionOptions extends SamplingOptions {
  /** most tokens to generate (default 128) */
  readonly maxTokens?: number;
  /** seed of the sampler's random draws (default: random; the result says which was used) */
  readonly seed?: number;
  /** generation stops before the first of these strings; it is not part of the text */
  readonly stop?: string | readonly string[];
  /** keep generating after end-of-generation tokens */
  readonly ignoreEos?: boolean;
  /** stops the call within one token; the call then rejects with AbortError */
  readonly signal?: AbortSignal;
  /** prompt evaluation progress (phase "prompt") */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** add the model's BOS token in front of the prompt (default true, as llama.cpp) */
  readonly addBos?: boolean;
}

/** maxTokens when a completion does not say */
export const DEFAULT_MAX_TOKENS = 128;
export const DEFAULT_MAX_QUEUE = 64;
/** llama.cpp's default context when the model's is larger */
/** flash attention unless loadModel is told otherwise (it is as fast as the classic path and equals llama.cpp's default) */
export const DEFAULT_FLASH_ATTENTION = true;
export const DEFAULT_MAX_CONTEXT = 4096;

type Check = (value: unknown) => boolean;
const isInt = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isNumber: Check = (v) => typeof v === "number" && Number.isFinite(v);
const isBool: Check = (v) => typeof v === "boolean";
const isFunction: Check = (v) => typeof v === "function";
const isSignal: Check = (v) => v instanceof AbortSignal;
const oneOf = (choices: readonly string[]): Check => (v) => typeof v === "string" && choices.includes(v);
const isByteSize: Check = (v) => (typeof v === "number" ? Number.isSafeInteger(v) && v > 0 : typeof v === "string" && byteSizeOrUndefined(v) !== undefined);
const isWorkers: Check = (v) => isInt(1, 255)(v) || (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === "string" && a.trim().length > 0));
const isStop: Check = (v) => typeof v === "string" || (Array.isArray(v) && v.every((s) => typeof s === "string"));

const LOAD_CHECKS: Record<keyof LoadModelOptions, [Check, string]> = {
  model: [(v) => typeof v === "string" && v.length > 0, "a path, a model name or a source"],
  maxMemory: [isByteSize, 'a byte count > 0 or a size such as "4GB"'],
  prefetch: [isInt(0, 1024), "an integer in [0, 1024]"],
  keepPageCache: [isBool, "a boolean"],
  threads: [isInt(1, 1024), "an integer in [1, 1024]"],
  contextSize: [isInt(1, MAX_CONTEXT_SIZE), `an integer in [1, ${MAX_CONTEXT_SIZE}]`],
  kvType: [oneOf(KV_TYPES), `one of ${KV_TYPES.join(", ")}`],
  flashAttention: [isBool, "a boolean"],
  repack: [isBool, "a boolean"],
  workers: [isWorkers, "a list of worker addresses or a number of local workers in [1, 255]"],
  assign: [(v) => oneOf(ASSIGN_MODES)(v) || (typeof v === "string" && v.includes("@")), `one of ${ASSIGN_MODES.join(", ")} or ranges such as "0-9@host:port,10-21@host:port"`],
  wire: [oneOf(WIRE_ENCODINGS), `one of ${WIRE_ENCODINGS.join(", ")}`],
  parallel: [isInt(1, 256), "an integer in [1, 256]"],
  maxQueue: [isInt(0, 1 << 20), "an integer ≥ 0"],
  promptCache: [isBool, "a boolean"],
  checkTensors: [isBool, "a boolean"],
  verify: [oneOf(VERIFY_MODES), `one of ${VERIFY_MODES.join(", ")}`],
  clusterKey: [(v) => typeof v === "string" && v.length > 0, "a key file path"],
  insecure: [isBool, "a boolean"],
  heartbeatTimeoutMs: [isInt(200, 3_600_000), "an integer in [200, 3600000]"],
  onProgress: [isFunction, "a function"],
  log: [isFunction, "a function"],
  signal: [isSignal, "an AbortSignal"],
};

const SAMPLER_CHECKS = Object.fromEntries(Object.keys(DEFAULT_SAMPLER_OPTIONS).map((key) => [key, [isNumber, "a number"]])) as Record<keyof SamplerOptions, [Check, string]>;

const COMPLETION_CHECKS: Record<keyof CompletionOptions, [Check, string]> = {
  ...SAMPLER_CHECKS,
  maxTokens: [isInt(0), "an integer ≥ 0"],
  seed: [isInt(0, 2 ** 32 - 1), "an integer in [0, 2^32 − 1]"],
  stop: [isStop, "a string or a list of strings"],
  ignoreEos: [isBool, "a boolean"],
  signal: [isSignal, "an AbortSignal"],
  onProgress: [isFunction, "a function"],
  addBos: [isBool, "a boolean"],
};

/** @throws OptionError UNKNOWN_OPTION / BAD_OPTION naming the first offending option */
export function checkLoadOptions(options: LoadModelOptions): void {
  checkOptions(options, LOAD_CHECKS, "loadModel");
}

/** @throws OptionError UNKNOWN_OPTION / BAD_OPTION naming the first offending option */
export function checkCompletionOptions(options: CompletionOptions): void {
  checkOptions(options, COMPLETION_CHECKS, "completion");
}

function checkOptions(options: object, checks: Record<string, [Check, string]>, what: string): void {
  if (options === null || typeof options !== "object") throw new OptionError("BAD_OPTION", `${what} options must be an object`);
  for (const [key, value] of Object.entries(options)) {
    const check = checks[key];
    if (!check) throw new OptionError("UNKNOWN_OPTION", `unknown ${what} option "${key}" (known: ${Object.keys(checks).join(", ")})`);
    if (value !== undefined && !check[0](value)) throw new OptionError("BAD_OPTION", `${what} option "${key}" must be ${check[1]}, got ${describe(value)}`);
  }
}

/** maxMemory in bytes (a number is bytes; a string is parsed: "512MB", "4GB", "1.5GiB") */
export function maxMemoryBytes(value: number | string | undefined): number | undefined {
  return typeof value === "string" ? byteSizeOrUndefined(value) : value;
}

/** The stop strings as a list, empty strings dropped. */
export function stopList(stop: CompletionOptions["stop"]): string[] {
  if (stop === undefined) return [];
  return (typeof stop === "string" ? [stop] : [...stop]).filter((s) => s.length > 0);
}

function byteSizeOrUndefined(text: string): number | undefined {
  try {
    const n = parseByteSize(text);
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return String(value);
}
