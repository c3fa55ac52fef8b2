/**
 * What a worker does after ASSIGN: which pipeline stages are its own, the layer host that runs
 * them (one memory plan, as the root's: `--max-memory` is all the worker holds for its part,
 * KV cache and buffers included), and where each stage's output goes.
 */
import type { Model } from "../engine/model/model.js";
import type { KvType } from "../engine/model/kvCache.js";
import { LayerstreamError } from "../engine/errors.js";
import { ProtocolError } from "../protocol/errors.js";
import type { AssignPayload, PipelineStage } from "../protocol/clusterControl.js";
import { openLayerHost, type LayerHost } from "../host/layerHost.js";

export class AssignmentError extends LayerstreamError {}

/** Where a stage's output goes: another worker's listen address, or back to the root. */
export type NextHop = { readonly kind: "worker"; readonly address: string; readonly stage: PipelineStage } | { readonly kind: "root" };

/** How a worker runs its layers: its --max-memory, --prefetch and --keep-page-cache. */
export interface WorkerMemoryOptions {
  readonly maxMemoryBytes?: number;
  readonly prefetch?: number;
  readonly keepPageCache?: boolean;
}

export class WorkerAssignment implements AsyncDisposable {
  private constructor(
    readonly plan: AssignPayload,
    readonly host: LayerHost,
    /** indices into plan.stages of this worker's stages */
    private readonly ownStages: readonly number[],
  ) {}

  static async create(model: Model, plan: AssignPayload, memory: WorkerMemoryOptions = {}): Promise<WorkerAssignment> {
    const { nLayer } = model.hparams;
    const last = plan.stages.at(-1)!;
    if (last.layerTo !== nLayer) throw new AssignmentError("BAD_ASSIGNMENT", `the pipeline ends at layer ${last.layerTo}, the model has ${nLayer} layers`);
    const ownStages = plan.stages.flatMap((stage, index) => (stage.worker === plan.workerIndex ? [index] : []));
    const layers = ownStages.flatMap((index) => range(plan.stages[index].layerFrom, plan.stages[index].layerTo));
    const host = await openLayerHost(model, {
      layers,
      holdsHead: false,
      maxMemoryBytes: memory.maxMemoryBytes,
      prefetch: memory.prefetch,
      keepPageCache: memory.keepPageCache,
      kvType: plan.kvType as KvType,
      flashKvChunks: plan.flashKvChunks,
      contextSize: plan.contextSize,
      sequences: plan.sequences ?? 1,
    });
    return new WorkerAssignment(plan, host, ownStages);
  }

  /**
   * The stage a batch for layers [layerFrom, layerTo) of a pass ending at `endLayer` belongs
   * to: one of this worker's stages must hold the range, and the range must run to the end of
   * that stage or to the end of the pass.
   * @throws ProtocolError BAD_LAYER_RANGE otherwise
   */
  stageFor(layerFrom: number, layerTo: number, endLayer: number): number {
    const index = this.ownStages.find((i) => this.plan.stages[i].layerFrom <= layerFrom && layerFrom < this.plan.stages[i].layerTo);
    const stage = index === undefined ? undefined : this.plan.stages[index];
    if (!stage || layerTo > stage.layerTo || layerTo !== Math.min(stage.layerTo, endLayer) || endLayer > this.plan.stages.at(-1)!.layerTo) {
      throw new ProtocolError("BAD_LAYER_RANGE", `layers [${layerFrom}, ${layerTo}) of a pass ending at ${endLayer} are not a stage of this worker (${this.describeLayers()})`);
    }
    return index!;
  }

  nextHop(stageIndex: number): NextHop {
    const next = this.plan.stages[stageIndex + 1];
    return next ? { kind: "worker", address: this.plan.addresses[next.worker], stage: next } : { kind: "root" };
  }

  /** this worker's layers, in order */
  ownLayers(): readonly number[] {
    return this.host.layers;
  }

  /** e.g. "layers 0-1, 4-5" */
  describeLayers(): string {
    const own = this.ownStages.map((i) => this.plan.stages[i]);
    return own.length === 0 ? "no layers" : `layers ${own.map((s) => (s.layerTo - s.layerFrom === 1 ? `${s.layerFrom}` : `${s.layerFrom}-${s.layerTo - 1}`)).join(", ")}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.host[Symbol.asyncDispose]();
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
