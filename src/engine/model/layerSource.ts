/**
 * Where a runner gets a block's weights: all resident (views of the mapped file, or copies
 * kept for good), or a streaming cache under a memory budget (src/engine/streaming). A block
 * stays valid from `acquire` until the matching `release`.
 */
import { bindLayer, packLayer, type LayerTensors, type LayerWeights, type Packer, type TensorBytes } from "./weights.js";

export interface LayerSource {
  /** may wait for a disk read */
  acquire(il: number): LayerWeights | Promise<LayerWeights>;
  release(il: number): void;
  describe(): string;
  /** what the latest acquire cost (profiling) */
  readonly lastAcquire: AcquireFacts;
  stats(): SourceStats;
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

/** A source's counters since it was made. */
export interface SourceStats {
  /** acquisitions served by a block that stayed resident since its previous use */
  readonly cacheHits: number;
  /** block reads started, on demand or ahead of use (bytesRead = Σ the blocks' sizes over misses) */
  readonly cacheMisses: number;
  readonly bytesRead: number;
  /** time acquisitions spent waiting for reads */
  readonly ioWaitSeconds: number;
  /** time at least one read was in flight */
  readonly readBusySeconds: number;
}

const ALWAYS_RESIDENT: AcquireFacts = Object.freeze({ cacheHit: true, bytesRead: 0, ioWaitMs: 0 });

/** Every block bound once and kept: every acquisition is a hit, nothing is read. */
export class ResidentLayerSource implements LayerSource {
  private readonly layers = new Map<number, LayerWeights>();
  private acquisitions = 0;
  /** the layer acquired last (a lower or equal one starts a new forward pass) */
  private lastAcquired = Infinity;
  readonly lastAcquire = ALWAYS_RESIDENT;

  constructor(
    private readonly tensors: readonly LayerTensors[],
    private readonly bytesOf: TensorBytes,
    private readonly access: string,
    /** checks the model file before each forward pass (throws when it changed on disk) */
    private readonly checkFile: () => void = () => {},
    /** packs each block's matrices for this backend's matmul when it binds them (packLayer) */
    private readonly packFor?: Packer,
  ) {}

  acquire(il: number): LayerWeights {
    // once per forward pass (layers are acquired in increasing order within one): an fstat per
    // layer cost ~2% of a decode step
    if (il <= this.lastAcquired) this.checkFile();
    this.lastAcquired = il;
    this.acquisitions++;
    return this.bind(il);
  }

  /** A block's weights, bound on first use; not counted as a use (loading, warming up). */
  bind(il: number): LayerWeights {
    let weights = this.layers.get(il);
    if (!weights) {
      weights = bindLayer(this.tensors[il], this.bytesOf);
      if (this.packFor) weights = packLayer(weights, this.packFor);
      this.layers.set(il, weights);
    }
    return weights;
  }

  release(): void {}

  describe(): string {
    return `all layers resident (${this.access})`;
  }

  stats(): SourceStats {
    return { cacheHits: this.acquisitions, cacheMisses: 0, bytesRead: 0, ioWaitSeconds: 0, readBusySeconds: 0 };
  }
}
