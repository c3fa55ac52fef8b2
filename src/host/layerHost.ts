/**
 * `openLayerHost`: what a process needs to run its layers — the root running a model itself,
 * or a worker running its assignment — made the same way in both: one memory plan, then the
 * layers brought in (resident: every page touched or read now, so the first token waits for no
 * disk) or streamed through a cache under the budget, and a LocalLayerRunner over them.
 */
import type { Model } from "../engine/model/model.js";
import type { KvType } from "../engine/model/kvCache.js";
import { headBytes } from "../engine/model/weights.js";
import { LocalLayerRunner } from "../engine/model/localLayerRunner.js";
import type { LayerSource } from "../engine/model/layerSource.js";
import { StreamingLayerSource } from "../engine/streaming/streamingLayerSource.js";
import { DEFAULT_BATCH_SIZE } from "../engine/session.js";
import { planMemory, type MemoryPlan } from "./memoryPlan.js";

export interface LayerHostOptions {
  /** the layers this process runs, in the order a pass runs them (all of them for a root running locally) */
  readonly layers: readonly number[];
  /** the process also keeps the embeddings and output head (the root) */
  readonly holdsHead: boolean;
  /** everything the process may hold for its part; undefined: available memory less a margin */
  readonly maxMemoryBytes?: number;
  readonly prefetch?: number;
  readonly keepPageCache?: boolean;
  /** KV cache: element type and positions per sequence (default: the model's) */
  readonly kvType?: KvType;
  readonly contextSize?: number;
  /** flash attention's split-KV chunks (default: the model's setting, Model.flashKvChunks) */
  readonly flashKvChunks?: number;
  /** sequences whose KV cache the plan makes room for (default 1) */
  readonly sequences?: number;
  /** called as layers are brought into memory */
  readonly onProgress?: (layersDone: number, layersTotal: number) => void;
}

export class LayerHost implements AsyncDisposable {
  private disposed = false;

  /** use openLayerHost */
  constructor(
    readonly plan: MemoryPlan,
    readonly runner: LocalLayerRunner,
    /** the layers it runs, in order */
    readonly layers: readonly number[],
  ) {}

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.runner[Symbol.asyncDispose]();
  }
}

export async function openLayerHost(model: Model, options: LayerHostOptions): Promise<LayerHost> {
  const kvType = options.kvType ?? model.kvType;
  const contextSize = options.contextSize ?? model.contextSize;
  const own = options.layers.map((il) => model.layers[il]);
  const plan = await planMemory({
    hparams: model.hparams,
    kvType,
    layers: own,
    headBytes: options.holdsHead ? headBytes(model.file) : 0,
    kvPositions: contextSize * (options.sequences ?? 1),
    batchTokens: Math.min(contextSize, DEFAULT_BATCH_SIZE),
    maxMemoryBytes: options.maxMemoryBytes,
    prefetch: options.prefetch,
  });
  const source = plan.mode === "resident" ? bringIn(model, options) : await streamLayers(model, plan, options);
  const runner = new LocalLayerRunner(model.hparams, source, {
    kvType,
    contextSize,
    ropeFreqs: model.ropeFactors(contextSize),
    backend: model.backend,
    flashKvChunks: "flashKvChunks" in options ? options.flashKvChunks : model.flashKvChunks,
  });
  return new LayerHost(plan, runner, [...options.layers]);
}

/** Every layer of the process loaded now, as llama.cpp loads a model (and the head when kept). */
function bringIn(model: Model, options: LayerHostOptions): LayerSource {
  const source = model.residentLayers(options.layers, options.onProgress);
  if (options.holdsHead) model.touchHead();
  return source;
}

async function streamLayers(model: Model, plan: MemoryPlan, options: LayerHostOptions): Promise<LayerSource> {
  return StreamingLayerSource.open(model.path, model.layers, {
    budgetBytes: plan.layerBudgetBytes,
    prefetchDepth: plan.prefetchDepth,
    keepPageCache: options.keepPageCache ?? false,
    schedule: options.layers,
    stamp: model.watch.stamp,
  });
}
