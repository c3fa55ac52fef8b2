/**
 * What a loaded model is made of, wired once: the engine's Model (file, tokenizer, head), the
 * kernels, the memory plan, the layer runner (this process, resident or streamed, or a cluster
 * of workers) and the counters behind `stats()`. `openModelCore` is the one place that puts
 * these together; the CLI and the server reach it only through `loadModel()`.
 */
import { Model } from "../engine/model/model.js";
import type { LayerRunner } from "../engine/model/layerRunner.js";
import { OptionError } from "../engine/errors.js";
import { StreamingLayerSource } from "../engine/streaming/streamingLayerSource.js";
import { formatBytes } from "../engine/streaming/byteSize.js";
import { DEFAULT_BATCH_SIZE } from "../engine/session.js";
import { setUpKernels } from "./kernelSetup.js";
import { planMemory, type MemoryPlan } from "../root/memoryPlan.js";
import { Cluster } from "../root/cluster/openCluster.js";
import { DEFAULT_MAX_CONTEXT, maxMemoryBytes, type LoadModelOptions } from "./options.js";

export interface ModelCore extends AsyncDisposable {
  readonly model: Model;
  readonly runner: LayerRunner;
  readonly plan: MemoryPlan;
  readonly streaming: StreamingLayerSource | undefined;
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
  const { choice: kernels, threads } = await setUpKernels(options.threads, (line) => log(line));
  const model = Model.open(path, {
    kvType: options.kvType,
    contextSize: options.contextSize,
    defaultContextCap: DEFAULT_MAX_CONTEXT,
    access: budget !== undefined ? "read" : undefined,
  });
  const owned: AsyncDisposable[] = [];
  try {
    const plan = await planMemory(model, { maxMemoryBytes: budget, prefetchDepth: options.prefetch, nPositions: model.contextSize, nBatch: Math.min(model.contextSize, DEFAULT_BATCH_SIZE) });
    log(describePlan(plan));
    const cluster = await Cluster.open(model, clusterFlags(options), log);
    if (cluster) owned.push(cluster);
    const streaming = await openStreaming(model, plan, cluster, options);
    const runner: LayerRunner = cluster?.runner ?? model.createLocalRunner(streaming ?? model.residentLayers((done, total) => options.onProgress?.({ phase: "load", done, total, unit: "layers" })));
    if (!cluster) owned.push(runner);
    return {
      model,
      runner,
      plan,
      streaming,
      cluster,
      kernels: kernels.description,
      threads,
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

async function openStreaming(model: Model, plan: MemoryPlan, cluster: Cluster | undefined, options: LoadModelOptions): Promise<StreamingLayerSource | undefined> {
  if (plan.mode !== "streaming" || cluster) return undefined;
  return StreamingLayerSource.open(model.path, model.layers, {
    budgetBytes: plan.layerBudgetBytes,
    prefetchDepth: plan.prefetchDepth,
    keepPageCache: options.keepPageCache ?? false,
  });
}

function clusterFlags(options: LoadModelOptions) {
  const { workers, assign = "round-robin", wire = "q8_0" } = options;
  if (typeof workers === "number") return { spawnWorkers: workers, assign, wire };
  if (workers !== undefined && workers.every((address) => address.trim() === "")) {
    throw new OptionError("BAD_WORKERS", "the worker list is empty");
  }
  return { workers: workers?.join(","), assign, wire };
}

async function disposeAll(owned: AsyncDisposable[]): Promise<void> {
  for (const resource of owned.reverse()) await resource[Symbol.asyncDispose]();
  owned.length = 0;
}

export function describePlan(plan: MemoryPlan): string {
  const budget = `memory budget ${formatBytes(plan.budgetBytes)} (${plan.budgetSource})`;
  if (plan.mode === "resident") return `${budget}: all ${formatBytes(plan.modelLayerBytes)} of layers stay resident`;
  return (
    `${budget}: ${formatBytes(plan.modelLayerBytes)} of layers cached in ${formatBytes(Math.min(plan.layerBudgetBytes, plan.modelLayerBytes))}` +
    ` (head, KV cache and buffers ${formatBytes(plan.fixedBytes)}), prefetch ${plan.prefetchDepth}`
  );
}
