import type { GgufFile } from "../gguf/types.js";
import type { ModelHparams } from "./hparams.js";
import type { LayerBatch, LayerRunner } from "./layerRunner.js";
import { bindLayer, type LayerWeights } from "./weights.js";
import { KvCache, type KvType } from "./kvCache.js";
import { BlockScratch, forwardBlock } from "./transformerBlock.js";
import { RopeTable } from "./rope.js";
import { OptionError } from "../errors.js";

/** Where a runner gets a layer's weights: all resident (mmap views), or a streaming cache. */
export interface LayerSource {
  acquire(il: number): LayerWeights;
  release(il: number): void;
}

/** Every layer bound once to views of the mapped file; the OS pages them in on first use. */
export class ResidentLayerSource implements LayerSource {
  private readonly layers = new Map<number, LayerWeights>();

  constructor(
    private readonly file: GgufFile,
    private readonly hparams: ModelHparams,
  ) {}

  acquire(il: number): LayerWeights {
    let weights = this.layers.get(il);
    if (!weights) {
      weights = bindLayer(this.file, this.hparams, il);
      this.layers.set(il, weights);
    }
    return weights;
  }

  release(): void {}
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

  constructor(
    private readonly hparams: ModelHparams,
    private readonly source: LayerSource,
    private readonly options: LocalRunnerOptions,
  ) {
    this.scratch = new BlockScratch(hparams);
    this.rope = new RopeTable(hparams.rope, options.ropeFreqs);
  }

  async run(batch: LayerBatch, layerFrom: number, layerTo: number): Promise<Float32Array> {
    return this.runSync(batch, layerFrom, layerTo);
  }

  /** The synchronous core of `run`, for callers in this process. */
  runSync(batch: LayerBatch, layerFrom: number, layerTo: number): Float32Array {
    if (this.disposed) throw new Error("LocalLayerRunner used after dispose");
    const { nLayer, nEmbd } = this.hparams;
    if (!(0 <= layerFrom && layerFrom <= layerTo && layerTo <= nLayer)) {
      throw new OptionError("BAD_LAYER_RANGE", `layer range [${layerFrom}, ${layerTo}) is outside [0, ${nLayer})`);
    }
    if (batch.hidden.length < batch.nTokens * nEmbd) {
      throw new OptionError("BAD_BATCH", `hidden states hold ${batch.hidden.length} values, expected ${batch.nTokens * nEmbd}`);
    }
    const cache = this.cacheFor(batch.sequenceId);
    const hidden = batch.hidden;
    for (let il = layerFrom; il < layerTo; il++) {
      const weights = this.source.acquire(il);
      try {
        forwardBlock(hidden, weights, this.hparams, this.rope, cache, il, batch.position, batch.nTokens, this.scratch);
      } finally {
        this.source.release(il);
      }
    }
    return hidden;
  }

  async truncateSequence(sequenceId: number, position: number): Promise<void> {
    if (position === 0) this.caches.delete(sequenceId);
    else this.caches.get(sequenceId)?.truncate(position);
  }

  describe(): string {
    return "local";
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
    this.disposed = true;
    this.caches.clear();
  }
}
