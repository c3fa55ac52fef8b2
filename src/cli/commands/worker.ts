import { Command, Option } from "commander";
import { Model } from "../../engine/model/model.js";
import { parseByteSizeOption, parseIntInRange } from "../options.js";
import { computeModelIdentity, describeIdentity } from "../../host/modelIdentity.js";
import { WorkerNode } from "../../worker/workerNode.js";
import type { CliIo } from "../io.js";
import { setUpKernels } from "../../api/kernelSetup.js";

export interface WorkerFlags {
  model: string;
  listen: string;
  maxMemory?: number;
  prefetch?: number;
  threads?: number;
  keepPageCache: boolean;
  exitOnStdinClose: boolean;
}

export function workerCommand(io: CliIo): Command {
  return new Command("worker")
    .description("serve layers of a model to a root over ZeroMQ (every worker maps the same model file)")
    .requiredOption("-m, --model <path>", "GGUF model file (the same file as the root's)")
    .requiredOption("-l, --listen <address>", "ZeroMQ address to bind, e.g. tcp://0.0.0.0:5555 (port * or 0: any free port)")
    .option("--max-memory <size>", "all this worker may hold for its layers (their KV cache and buffers included), e.g. 512MB; layers beyond it stream from disk (default: available memory − 512 MiB)", parseByteSizeOption)
    .option("--prefetch <n>", "layers to read ahead while computing (default: 1; 0 when the budget holds one layer)", parseIntInRange(0, 1024))
    .option("-t, --threads <n>", "compute threads for the native kernels (default: physical cores)", parseIntInRange(1, 1024))
    .option("--keep-page-cache", "with --max-memory: leave streamed layers in the OS page cache too (default: drop them once copied)", false)
    .addOption(new Option("--exit-on-stdin-close", "stop when stdin closes (used by --spawn-workers)").default(false).hideHelp())
    .action(async (flags: WorkerFlags) => {
      await runWorker(flags, io);
    });
}

/** Serves until SIGINT/SIGTERM (or stdin closing, with --exit-on-stdin-close), then closes its sockets. */
export async function runWorker(flags: WorkerFlags, io: CliIo): Promise<void> {
  const backend = await setUpKernels(flags.threads, (line) => io.progress(line));
  using model = Model.open(flags.model, { backend, access: flags.maxMemory !== undefined ? "read" : undefined });
  const identity = computeModelIdentity(flags.model, model.file.dataOffset, model.hparams.nLayer);
  await using node = new WorkerNode({ model, identity, maxMemoryBytes: flags.maxMemory, prefetch: flags.prefetch, keepPageCache: flags.keepPageCache, kernels: backend.description, log: (line) => io.progress(line) });
  const address = await node.listen(flags.listen);

  const stop = () => void node.close();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  io.signal?.addEventListener("abort", stop, { once: true });
  if (flags.exitOnStdinClose) {
    process.stdin.on("end", stop).on("close", stop).resume();
  }
  try {
    io.writeOut(`worker listening on ${address}, model ${flags.model} (${describeIdentity(identity)}), ${model.hparams.nLayer} layers, kernels ${backend.description}\n`);
    await node.serve();
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    io.signal?.removeEventListener("abort", stop);
    if (flags.exitOnStdinClose) process.stdin.off("end", stop).off("close", stop).destroy();
    io.progress(`worker ${address} stopped (${node.badFrames} frames rejected)`);
  }
}
