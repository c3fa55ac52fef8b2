/**
 * What a loaded model is made of, wired once: the engine's Model (file, tokenizer, head), the
 * kernels, the layer host (the memory plan, and the layers this process runs, resident or
 * streamed), and the runner — the host's, or a cluster of workers. `openModelCore` is the one
 * place that puts these together; the CLI and the server reach it only through `loadModel()`.
 */
import { Model } from "../engine/model/model.js";
import type { LayerRunner } from "../engine/model/layerRunner.js";
import { openLayerHost, type LayerHost } from "../host/layerHost.js";
import { describePlan } from "../host/memoryPlan.js";
import { Cluster, type ClusterFlags } from "../root/cluster/openCluster.js";
import { setUpKernels } from "./kernelSetup.js";
import { DEFAULT_FLASH_ATTENTION, DEFAULT_MAX_CONTEXT, maxMemoryBytes, type LoadModelOptions } from "./options.js";
import { OptionError } from "../engine/errors.js";
import { describeVerified, verifyModelFile } from "./verifyModelFile.js";

export interface ModelCore extends AsyncDisposable {
  readonly model: Model;
  /** the root's own part: its memory plan, and the layers it runs (none when workers run them) */
  readonly host: LayerHost;
  readonly runner: LayerRunner;
  readonly cluster: Cluster | undefined;
  readonly kernels: string;
  readonly threads: number;
  readonly loadSeconds: number;
}

/**
 * Opens the file at `path` and everything that runs it.
 * @param path an existing GGUF file (the model option already resolved)
 */
export async function openModelCore(path: string, options: LoadModelOptions): Promise<ModelCore> {
  const loadStart = performance.now();
  const log = options.log ?? (() => {});
  const budget = maxMemoryBytes(options.maxMemory);
  const backend = await setUpKernels(options.threads, log);
  if (options.verify === "full") log(`model file ${path}: ${describeVerified(await verifyModelFile(path, { signal: options.signal }))}`);
  const model = Model.open(path, { backend, kvType: options.kvType, flashAttention: options.flashAttention ?? DEFAULT_FLASH_ATTENTION, repack: options.repack, contextSize: options.contextSize, defaultContextCap: DEFAULT_MAX_CONTEXT, checkTensors: options.checkTensors });
  const owned: AsyncDisposable[] = [];
  try {
    const cluster = await Cluster.open(model, clusterFlags(options, budget), log);
    if (cluster) owned.push(cluster);
    const host = await openLayerHost(model, {
      layers: cluster ? [] : model.layers.map((_, il) => il),
      holdsHead: true,
      maxMemoryBytes: budget,
      prefetch: options.prefetch,
      keepPageCache: options.keepPageCache,
      sequences: options.parallel ?? 1,
      onProgress: (done, total) => options.onProgress?.({ phase: "load", done, total, unit: "layers" }),
    });
    owned.push(host);
    log(describePlan(host.plan));
    return {
      model,
      host,
      runner: cluster?.runner ?? host.runner,
      cluster,
      kernels: backend.description,
      threads: backend.threads,
      loadSeconds: (performance.now() - loadStart) / 1000,
      async [Symbol.asyncDispose]() {
        await disposeAll(owned);
        model.dispose();
      },
    };
  } catch (error) {
    await disposeAll(owned);
    model.dispose();
    throw error;
  }
}

function clusterFlags(options: LoadModelOptions, budget: number | undefined): ClusterFlags {
  const { workers, assign = "auto", wire = "q8_0", clusterKey, insecure, heartbeatTimeoutMs } = options;
  const common = { assign, wire, sequences: options.parallel ?? 1, clusterKey, insecure, heartbeatTimeoutMs, verify: options.verify, fallbackMemory: { maxMemoryBytes: budget, prefetch: options.prefetch, keepPageCache: options.keepPageCache } };
  if (typeof workers === "number") return { spawnWorkers: workers, ...common };
  if (workers !== undefined && workers.every((address) => address.trim() === "")) {
    throw new OptionError("BAD_WORKERS", "the worker list is empty");
  }
  return { workers: workers?.join(","), ...common };
}

async function disposeAll(owned: AsyncDisposable[]): Promise<void> {
  for (const resource of owned.reverse()) await resource[Symbol.asyncDispose]();
  owned.length = 0;
}
