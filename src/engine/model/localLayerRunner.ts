import type { ModelHparams } from "./hparams.js";
import type { LayerBatch, LayerRunner } from "./layerRunner.js";
import { bindLayer, type LayerTensors, type LayerWeights, type TensorBytes } from "./weights.js";
import { KvCache, type KvType } from "./kvCache.js";
import { BlockScratch, forwardBlock } from "./transformerBlock.js";
import { RopeTable } from "./rope.js";
import { OptionError } from "../errors.js";
import type { LayerTiming } from "../../protocol/profileRecords.js";
import { OpTimer } from "./opTimer.js";

/**
 * Where a runner gets a block's weights: all resident (views of the mapped file, or copies
 * kept forever), or a streaming cache under a memory budget. A block stays valid from
 * `acquire` until the matching `release`.
 */
export interface LayerSource {
  /** may wait for a disk read */
  acquire(il: number): LayerWeights | Promise<LayerWeights>;
  release(il: number): void;
  describe(): string;
  /** what the latest acquire cost (profiling); absent: always resident, nothing read */
  readonly lastAcquire?: AcquireFacts;
}

/** What bringing one block in cost. */
export interface AcquireFacts {
  /** resident since its previous use (no read this time) */
  readonly cacheHit: boolean;
  /** bytes read from disk for this use (a read ahead counts at the use it was for) */
  readonly bytesRead: number;
  /** time the acquire waited for the read */
  readonly ioWaitMs: number;
}

/** Every block bound once and kept; with a mapped file the OS pages the data in on first use. */
export class ResidentLayerSource implements LayerSource {
  private readonly layers = new Map<number, LayerWeights>();

  constructor(
    private readonly tensors: readonly LayerTensors[],
    private readonly bytesOf: TensorBytes,
    private readonly access: string,
  ) {}

  acquire(il: number): LayerWeights {
    let weights = this.layers.get(il);
    if (!weights) {
      weights = bindLayer(this.tensors[il], this.bytesOf);
      this.layers.set(il, weights);
    }
    return weights;
  }

  release(): void {}

  describe(): string {
    return `all layers resident (${this.access})`;
  }
}

export interface LocalRunnerOptions {
  readonly kvType: KvType;
  /** most positions a sequence may hold */
  readonly contextSize: number;
  /** RoPE frequency divisors from the model, if any */
  readonly ropeFreqs?: Float32Array;
}

/** Runs layers in this process. */
export class LocalLayerRunner implements LayerRunner {
  private readonly caches = new Map<number, KvCache>();
  private readonly scratch: BlockScratch;
  private readonly rope: RopeTable;
  private disposed = false;
  /** time spent computing blocks (not waiting for weights) */
  computeSeconds = 0;
  /** layers run (one per layer per call, whatever the batch) */
  layerRuns = 0;
  /** when set, every layer run is timed per operation and kept until takeLayerTimings() */
  private timer?: OpTimer;
  private timings: (Omit<LayerTiming, "startAtMs" | "endAtMs"> & { startMs: number; endMs: number })[] = [];

  constructor(
    private readonly hparams: ModelHparams,
    readonly source: LayerSource,
    private readonly options: LocalRunnerOptions,
  ) {
    this.scratch = new BlockScratch(hparams);
    this.rope = new RopeTable(hparams.rope, options.ropeFreqs);
  }

  async run(batch: LayerBatch, layerFrom: number, layerTo: number): Promise<Float32Array> {
    return (await this.runMany([batch], layerFrom, layerTo))[0];
  }

  async runMany(batches: readonly LayerBatch[], layerFrom: number, layerTo: number): Promise<Float32Array[]> {
    if (this.disposed) throw new Error("LocalLayerRunner used after dispose");
    const { nLayer, nEmbd } = this.hparams;
    if (!(0 <= layerFrom && layerFrom <= layerTo && layerTo <= nLayer)) {
      throw new OptionError("BAD_LAYER_RANGE", `layer range [${layerFrom}, ${layerTo}) is outside [0, ${nLayer})`);
    }
    const ids = new Set<number>();
    for (const batch of batches) {
      if (batch.hidden.length < batch.nTokens * nEmbd) {
        throw new OptionError("BAD_BATCH", `hidden states hold ${batch.hidden.length} values, expected ${batch.nTokens * nEmbd}`);
      }
      if (ids.has(batch.sequenceId)) throw new OptionError("BAD_BATCH", `sequence ${batch.sequenceId} appears twice in one call`);
      ids.add(batch.sequenceId);
    }
    const timer = this.timer;
    for (let il = layerFrom; il < layerTo; il++) {
      const acquireStart = timer ? performance.now() : 0;
      const weights = await this.source.acquire(il);
      const start = timer ? timer.start() : performance.now();
      try {
        for (const batch of batches) {
          const cache = this.cacheFor(batch.sequenceId);
          forwardBlock(batch.hidden, weights, this.hparams, this.rope, cache, il, batch.position, batch.nTokens, this.scratch, il === this.hparams.nLayer - 1, timer);
        }
      } finally {
        const end = performance.now();
        this.computeSeconds += (end - start) / 1000;
        this.layerRuns++;
        this.source.release(il);
        if (timer) {
          // the whole acquire counts as IO: waiting for the read, and starting reads (buffers, read-ahead)
          const facts = this.source.lastAcquire ?? { cacheHit: true, bytesRead: 0 };
          this.timings.push({ layer: il, cacheHit: facts.cacheHit, bytesRead: facts.bytesRead, ioWaitMs: start - acquireStart, opMs: timer.opMs(), startMs: acquireStart, endMs: end });
        }
      }
    }
    return batches.map((batch) => batch.hidden);
  }

  /** Turns per-layer timing on or off (off: no clock calls inside blocks). */
  setProfiling(enabled: boolean): void {
    if (enabled === (this.timer !== undefined)) return;
    this.timer = enabled ? new OpTimer() : undefined;
    if (!enabled) this.timings = [];
  }

  /** The layer timings recorded since the last call, with offsets from `originMs` (performance.now() time). */
  takeLayerTimings(originMs: number): LayerTiming[] {
    const out = this.timings.map(({ startMs, endMs, ...rest }) => ({ ...rest, startAtMs: startMs - originMs, endAtMs: endMs - originMs }));
    this.timings = [];
    return out;
  }

  async truncateSequence(sequenceId: number, position: number): Promise<void> {
    if (position === 0) this.caches.delete(sequenceId);
    else this.caches.get(sequenceId)?.truncate(position);
  }

  describe(): string {
    return `local, ${this.source.describe()}`;
  }

  private cacheFor(sequenceId: number): KvCache {
    let cache = this.caches.get(sequenceId);
    if (!cache) {
      const { nHeadKv, headDim } = this.hparams;
      cache = new KvCache(nHeadKv * headDim, this.options.contextSize, this.options.kvType);
      this.caches.set(sequenceId, cache);
    }
    return cache;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.caches.clear();
    const disposable = this.source as Partial<AsyncDisposable>;
    await disposable[Symbol.asyncDispose]?.();
  }
}
