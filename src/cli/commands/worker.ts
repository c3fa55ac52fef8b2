/**
 * `layerstream worker`: serves layers of the models it was started with to roots holding the
 * cluster key (or to anyone, with --insecure). Limits on what a peer may ask are flags, stated
 * in --help.
 */
import { Command, Option } from "commander";
import { Model } from "../../engine/model/model.js";
import { parseByteSizeOption, parseChoice, parseFloatInRange, parseIntInRange } from "../options.js";
import { computeModelIdentity, describeIdentity, VERIFY_MODES, withFullSha256, type VerifyMode } from "../../host/modelIdentity.js";
import { WorkerNode } from "../../worker/workerNode.js";
import type { ServedModel } from "../../worker/workerSession.js";
import { CapacityProbe } from "../../worker/capacityProbe.js";
import { DEFAULT_WORKER_LIMITS, type WorkerLimits } from "../../worker/workerLimits.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import type { CliIo } from "../io.js";
import { setUpKernels } from "../../api/kernelSetup.js";
import { addSecurityOptions, linkSecurityFromFlags, type SecurityFlags } from "../securityFlags.js";

export interface WorkerFlags extends SecurityFlags {
  model: string[];
  listen: string;
  maxMemory?: number;
  prefetch?: number;
  threads?: number;
  keepPageCache: boolean;
  exitOnStdinClose: boolean;
  checkTensors: boolean;
  verify: VerifyMode;
  maxFrame: number;
  maxBatchTokens: number;
  maxContext: number;
  maxSequences: number;
  idleTimeout: number;
}

const L = DEFAULT_WORKER_LIMITS;
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function workerCommand(io: CliIo): Command {
  const command = new Command("worker")
    .description("serve layers of a model to a root over ZeroMQ (every worker maps the same model file); only peers holding the cluster key get in")
    .requiredOption("-m, --model <path>", "GGUF model file (the same file as the root's); repeat to serve several — the worker opens no other file", collect)
    .requiredOption("-l, --listen <address>", "ZeroMQ address to bind, e.g. tcp://0.0.0.0:5555 (port * or 0: any free port)")
    .option("--max-memory <size>", "all this worker may hold for its layers (their KV cache and buffers included), e.g. 512MB; layers beyond it stream from disk (default: available memory − 512 MiB)", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores)", parseIntInRange(1, 1024))
    .option("--keep-page-cache", "with --max-memory: leave streamed layers in the OS page cache too (default: drop them once copied)", false)
    .option("--check-tensors", "read every weight at start and refuse NaN or Inf values, naming the tensor", false)
    .option("--verify <mode>", `model file check (${VERIFY_MODES.join(", ")}): full hashes the whole file at start (cached; see layerstream verify) and requires the root's full hash`, parseChoice(VERIFY_MODES), "sampled")
    .option("--max-frame <size>", "largest message a peer may send; a bigger one drops its connection", parseByteSizeOption, L.maxFrameBytes)
    .option("--max-batch-tokens <n>", "most rows in one activation batch", parseIntInRange(1, 65_535), L.maxBatchTokens)
    .option("--max-context <n>", "most positions per sequence a root may ask for", parseIntInRange(1, 2 ** 24), L.maxContext)
    .option("--max-sequences <n>", "most sequences (KV caches) a root may hold here", parseIntInRange(1, 65_536), L.maxSequences)
    .option("--idle-timeout <seconds>", "a sequence unused this long has its KV cache freed", parseFloatInRange(1), L.idleSequenceMs / 1000)
    .addOption(new Option("--exit-on-stdin-close", "stop when stdin closes (used by --spawn-workers)").default(false).hideHelp());
  return addSecurityOptions(command, "serve").action(async (flags: WorkerFlags) => {
    await runWorker(flags, io);
  });
}

/** Serves until SIGINT/SIGTERM (or stdin closing, with --exit-on-stdin-close), then closes its sockets. */
export async function runWorker(flags: WorkerFlags, io: CliIo): Promise<void> {
  const log = (line: string) => io.progress(line);
  const security = linkSecurityFromFlags(flags, log, "worker");
  const backend = await setUpKernels(flags.threads, log);
  const models: Model[] = [];
  try {
    const served: ServedModel[] = [];
    for (const path of flags.model) {
      const model = Model.open(path, { backend, checkTensors: flags.checkTensors });
      models.push(model);
      const sampled = computeModelIdentity(path, model.file.dataOffset, model.hparams.nLayer);
      const identity = flags.verify === "full" ? await withFullSha256(sampled, path, { signal: io.signal }) : sampled;
      served.push({ model, identity, capacity: new CapacityProbe(model, { maxMemoryBytes: flags.maxMemory, threads: backend.threads }) });
    }
    await serveModels(served, flags, security, io, backend.description);
  } finally {
    for (const model of models) model.dispose();
  }
}

async function serveModels(served: ServedModel[], flags: WorkerFlags, security: ReturnType<typeof linkSecurityFromFlags>, io: CliIo, kernels: string): Promise<void> {
  const limits: WorkerLimits = { maxFrameBytes: flags.maxFrame, maxBatchTokens: flags.maxBatchTokens, maxContext: flags.maxContext, maxSequences: flags.maxSequences, idleSequenceMs: flags.idleTimeout * 1000 };
  await using node = await WorkerNode.create({ models: served, security, limits, maxMemoryBytes: flags.maxMemory, prefetch: flags.prefetch, keepPageCache: flags.keepPageCache, kernels, verify: flags.verify, log: (line) => io.progress(line) });
  const address = await node.listen(flags.listen);
  const stop = () => void node.close();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  io.signal?.addEventListener("abort", stop, { once: true });
  if (flags.exitOnStdinClose) process.stdin.on("end", stop).on("close", stop).resume();
  try {
    const what = served.map(({ model, identity }) => `model ${model.path} (${describeIdentity(identity)}), ${model.hparams.nLayer} layers`).join("; ");
    io.writeOut(`worker listening on ${address}, ${what}, kernels ${kernels}, ${security.key ? "CurveZMQ" : "INSECURE plaintext"}\n`);
    io.progress(`limits: frames ≤ ${formatBytes(limits.maxFrameBytes)}, batches ≤ ${limits.maxBatchTokens} rows, context ≤ ${limits.maxContext}, ≤ ${limits.maxSequences} sequences; heartbeat timeout ${security.heartbeatTimeoutMs / 1000} s`);
    await node.serve();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    io.signal?.removeEventListener("abort", stop);
    if (flags.exitOnStdinClose) process.stdin.off("end", stop).off("close", stop).destroy();
    io.progress(`worker ${address} stopped (${node.badFrames} frames rejected)`);
  }
}
