/**
 * What a worker does after ASSIGN: which pipeline stages are its own, the runner that runs
 * them (keeping each sequence's KV cache for its layers), and where each stage's output goes.
 */
import { LocalLayerRunner, ResidentLayerSource, type LayerSource } from "../engine/model/localLayerRunner.js";
import type { Model } from "../engine/model/model.js";
import type { KvType } from "../engine/model/kvCache.js";
import { StreamingLayerSource } from "../engine/streaming/streamingLayerSource.js";
import { formatBytes } from "../engine/streaming/byteSize.js";
import { LayerstreamError } from "../engine/errors.js";
import type { AssignPayload, PipelineStage } from "../protocol/clusterControl.js";

export class AssignmentError extends LayerstreamError {}

/** Where a stage's output goes: another worker's listen address, or back to the root. */
export type NextHop = { readonly kind: "worker"; readonly address: string; readonly stage: PipelineStage } | { readonly kind: "root" };

export class WorkerAssignment implements AsyncDisposable {
  private constructor(
    readonly plan: AssignPayload,
    readonly runner: LocalLayerRunner,
    /** this worker's stages, keyed by their first layer */
    private readonly ownStages: ReadonlyMap<number, number>,
  ) {}

  /**
   * @param maxMemoryBytes when given, this worker's layers stream from disk through a cache of
   *   this many bytes (the KV cache and buffers come on top)
   * @param keepPageCache leave streamed layers in the OS page cache (StreamingOptions.keepPageCache)
   */
  static async create(model: Model, plan: AssignPayload, maxMemoryBytes?: number, keepPageCache = false): Promise<WorkerAssignment> {
    const { nLayer } = model.hparams;
    const last = plan.stages.at(-1)!;
    if (last.layerTo !== nLayer) throw new AssignmentError("BAD_ASSIGNMENT", `the pipeline ends at layer ${last.layerTo}, the model has ${nLayer} layers`);
    const ownStages = new Map<number, number>();
    const ownLayers: number[] = [];
    plan.stages.forEach((stage, index) => {
      if (stage.worker !== plan.workerIndex) return;
      ownStages.set(stage.layerFrom, index);
      for (let il = stage.layerFrom; il < stage.layerTo; il++) ownLayers.push(il);
    });
    let source: LayerSource;
    if (maxMemoryBytes !== undefined && ownLayers.length > 0) {
      const own = ownLayers.map((il) => model.layers[il]);
      const minimum = StreamingLayerSource.minimumBudget(own);
      if (maxMemoryBytes < minimum) {
        throw new AssignmentError("BUDGET_TOO_SMALL", `--max-memory ${formatBytes(maxMemoryBytes)} is below this worker's largest layer, ${formatBytes(minimum)}`);
      }
      source = await StreamingLayerSource.open(model.path, model.layers, {
        budgetBytes: maxMemoryBytes,
        keepPageCache,
        prefetchDepth: Math.min(1, ownLayers.length - 1),
        schedule: ownLayers,
      });
    } else {
      source = new ResidentLayerSource(model.layers, model.tensorBytes, model.access);
    }
    const runner = new LocalLayerRunner(model.hparams, source, {
      kvType: plan.kvType as KvType,
      contextSize: plan.contextSize,
      ropeFreqs: model.head.ropeFreqs,
    });
    return new WorkerAssignment(plan, runner, ownStages);
  }

  /** Index of this worker's stage [layerFrom, layerTo), or undefined when it is not one. */
  stageIndex(layerFrom: number, layerTo: number): number | undefined {
    const index = this.ownStages.get(layerFrom);
    return index !== undefined && this.plan.stages[index].layerTo === layerTo ? index : undefined;
  }

  nextHop(stageIndex: number): NextHop {
    const next = this.plan.stages[stageIndex + 1];
    return next ? { kind: "worker", address: this.plan.addresses[next.worker], stage: next } : { kind: "root" };
  }

  /** this worker's layers, in order */
  ownLayers(): number[] {
    return this.plan.stages.filter((s) => s.worker === this.plan.workerIndex).flatMap((s) => Array.from({ length: s.layerTo - s.layerFrom }, (_, i) => s.layerFrom + i));
  }

  /** e.g. "layers 0-1, 4-5" */
  describeLayers(): string {
    const own = this.plan.stages.filter((s) => s.worker === this.plan.workerIndex);
    return own.length === 0 ? "no layers" : `layers ${own.map((s) => (s.layerTo - s.layerFrom === 1 ? `${s.layerFrom}` : `${s.layerFrom}-${s.layerTo - 1}`)).join(", ")}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.runner[Symbol.asyncDispose]();
  }
}
