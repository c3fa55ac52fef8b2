/**
 * `layerstream serve`: an OpenAI-compatible HTTP server (and a dashboard) over one loaded model.
 * A thin layer: flags → `startServer()` (src/server), which listens at once and loads the model
 * in the background. SIGTERM or Ctrl-C shut it down gracefully.
 */
import { Command } from "commander";
import { KV_TYPES, type KvType } from "../../api/options.js";
import { startServer, type RunningServer } from "../../server/server.js";
import { DEFAULT_BODY_LIMIT } from "../../server/app.js";
import { parseByteSizeOption, parseChoice, parseFloatInRange, parseIntInRange } from "../options.js";
import { FLASH_ATTN_CHOICES, FLASH_ATTN_HELP, memoryLoadOptions, NO_REPACK_HELP, type FlashAttnChoice } from "../loadFlags.js";
import type { CliIo } from "../io.js";
import { addClusterOptions, clusterLoadOptions, type ClusterCliFlags } from "../clusterOptions.js";

export interface ServeFlags extends ClusterCliFlags {
  model?: string;
  host: string;
  port: number;
  maxMemory?: number;
  parallel: number;
  maxQueue?: number;
  apiKey?: string;
  threads?: number;
  ctxSize?: number;
  kvType: KvType;
  flashAttn: FlashAttnChoice;
  /** false with --no-repack */
  repack: boolean;
  prefetch?: number;
  keepPageCache: boolean;
  maxBodySize: number;
  shutdownGrace: number;
  logRequests: boolean;
}

export const DEFAULT_PARALLEL = 4;

export function serveCommand(io: CliIo): Command {
  return addModelOptions(new Command("serve").description("serve a model over an OpenAI-compatible HTTP API, with a dashboard at /"))
    .option("--host <address>", "address to listen on (0.0.0.0: every interface)", "127.0.0.1")
    .option("--port <n>", "port to listen on (0: any free port, printed at start)", parseIntInRange(0, 65535), 8080)
    .option("--parallel <n>", "sequences generated at once; concurrent requests share every forward pass", parseIntInRange(1, 256), DEFAULT_PARALLEL)
    .option("--max-queue <n>", "requests that may wait for a sequence slot; beyond, 429 (default: the API's, 64)", parseIntInRange(0, 1 << 20))
    .option("--api-key <key>", "require Authorization: Bearer <key> on /v1 and the dashboard's data (or set LAYERSTREAM_API_KEY)")
    .option("--max-body-size <size>", "largest request body; beyond, 413", parseByteSizeOption, DEFAULT_BODY_LIMIT)
    .option("--shutdown-grace <seconds>", "on SIGTERM or Ctrl-C, how long requests in flight may take to finish before they are cancelled", parseFloatInRange(0), 10)
    .option("--log-requests", "one line per answered request on stderr", false)
    .action(async (flags: ServeFlags) => {
      await runServe(flags, io);
    });
}

/** The model, memory and worker flags `serve` and `chat` share with `generate`. */
export function addModelOptions(command: Command): Command {
  command
    .option("-m, --model <model>", "GGUF file path, cached or built-in model name, or a source pulled on first use (hf:owner/repo:Q4_K_M, …); default: the built-in model")
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores)", parseIntInRange(1, 1024))
    .option("-c, --ctx-size <n>", "context size per sequence in tokens (default: the model's, at most 4096)", parseIntInRange(1))
    .option("--kv-type <type>", `KV cache type (${KV_TYPES.join(", ")})`, parseChoice(KV_TYPES), "f16")
    .option("--flash-attn <mode>", FLASH_ATTN_HELP, parseChoice(FLASH_ATTN_CHOICES), "auto")
    .option("--no-repack", NO_REPACK_HELP)
    .option("--max-memory <size>", "memory budget, e.g. 512MB or 4GB; layers beyond it are streamed from disk (default: available memory − 512 MiB)", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("--keep-page-cache", "leave streamed layers in the OS page cache too", false);
  return addClusterOptions(command, "with the server");
}

type ModelFlags = Pick<ServeFlags, "model" | "threads" | "ctxSize" | "kvType" | "flashAttn" | "repack" | "maxMemory" | "prefetch" | "keepPageCache" | keyof ClusterCliFlags>;

/** The shared flags as `loadModel()` options. */
export function loadOptionsOf(flags: ModelFlags) {
  return {
    ...clusterLoadOptions(flags),
    model: flags.model,
    contextSize: flags.ctxSize,
    ...memoryLoadOptions(flags),
  };
}

export async function runServe(flags: ServeFlags, io: CliIo): Promise<void> {
  const server = await startServer({
    host: flags.host,
    port: flags.port,
    load: { ...loadOptionsOf(flags), parallel: flags.parallel, maxQueue: flags.maxQueue, log: (line) => io.progress(line) },
    apiKey: flags.apiKey ?? (process.env.LAYERSTREAM_API_KEY || undefined),
    bodyLimit: flags.maxBodySize,
    log: (line) => io.progress(line),
    logRequests: flags.logRequests,
  });
  io.progress(`listening on ${server.url} — the dashboard is at ${server.url}/ (loading the model…)`);
  const stop = stopOnSignals(server, flags.shutdownGrace * 1000, io);
  const model = await server.loaded;
  if (model) {
    const { info } = model;
    io.progress(`ready: ${info.name}, ${info.architecture}, ${info.layers} layers, ${info.quantization}; ctx ${info.contextSize} × ${flags.parallel} sequences; runner ${info.runner}`);
  } else if (server.context.slot.state !== "closing") {
    stop.forget();
    await server.close(0);
    throw server.context.slot.error;
  }
  await stop.done;
  io.progress("stopped");
}

/** SIGTERM or Ctrl-C (the CLI's signal) shut the server down gracefully; `done` settles once it is. */
function stopOnSignals(server: RunningServer, graceMs: number, io: CliIo): { done: Promise<void>; forget(): void } {
  let onTerm = () => {};
  let onInterrupt = () => {};
  const forget = () => {
    process.off("SIGTERM", onTerm);
    io.signal?.removeEventListener("abort", onInterrupt);
  };
  const done = new Promise<void>((resolve, reject) => {
    const stop = (why: string) => () => {
      forget();
      io.progress(`${why}: shutting down`);
      server.close(graceMs).then(resolve, reject);
    };
    onTerm = stop("SIGTERM");
    onInterrupt = stop("interrupted");
    process.once("SIGTERM", onTerm);
    io.signal?.addEventListener("abort", onInterrupt, { once: true });
  });
  return { done, forget };
}
