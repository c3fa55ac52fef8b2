/**
 * Runs layers in this process, on weights from a LayerSource (resident or streamed), keeping
 * each sequence's KV cache for the layers it runs.
 */
import type { ModelHparams } from "./hparams.js";
import { outputRows, type LayerRange, type LayerRunner, type RunOptions, type RunnerStats, type SequenceBatch } from "./layerRunner.js";
import type { LayerSource } from "./layerSource.js";
import type { LayerWeights } from "./weights.js";
import { KvCache, type KvType } from "./kvCache.js";
import { BlockScratch, forwardBlock, type BlockContext, type BlockRun } from "./transformerBlock.js";
import type { ComputeBackend } from "../backend/computeBackend.js";
import { RopeTable } from "./rope.js";
import { LayerstreamError, OptionError } from "../errors.js";
import type { LayerTiming } from "../../telemetry/records.js";
import { NULL_RECORDER, type Recorder } from "../../telemetry/recorder.js";
import { OpTimer } from "../../telemetry/opTimer.js";

export interface LocalRunnerOptions {
  readonly kvType: KvType;
  /** most positions a sequence may hold */
  readonly contextSize: number;
  /** RoPE frequency divisors from the model, if any */
  readonly ropeFreqs?: Float32Array;
  readonly backend: ComputeBackend;
  /** flash attention (llama.cpp's -fa) with this many split-KV chunks; unset: classic attention */
  readonly flashKvChunks?: number;
}

export class LocalLayerRunner implements LayerRunner {
  private readonly caches = new Map<number, KvCache>();
  /** performance.now() of each sequence's last use */
  private readonly lastUsedMs = new Map<number, number>();
  private readonly block: BlockContext;
  private disposed = false;
  private computeSeconds = 0;
  private layerRuns = 0;

  constructor(
    private readonly hparams: ModelHparams,
    readonly source: LayerSource,
    private readonly options: LocalRunnerOptions,
  ) {
    const swa = hparams.variant.slidingWindow;
    const ropeSwa = swa && new RopeTable(swa.rope, options.ropeFreqs);
    this.block = { hparams, rope: new RopeTable(hparams.rope, options.ropeFreqs), ropeSwa, backend: options.backend, scratch: new BlockScratch(hparams), flashKvChunks: options.flashKvChunks };
  }

  async run(batches: readonly SequenceBatch[], range: LayerRange, options: RunOptions = {}): Promise<Float32Array[]> {
    if (this.disposed) throw new LayerstreamError("CLOSED", "LocalLayerRunner used after dispose");
    this.check(batches, range);
    const recorder = options.recorder ?? NULL_RECORDER;
    const timer = recorder.enabled ? new OpTimer() : undefined;
    const callStartMs = timer ? performance.now() : 0;
    const timings: LayerTiming[] = [];
    const lastRowsOnly = (options.rows ?? "last") === "last" && range.to === this.hparams.nLayer;
    const stacked = this.stack(batches);
    for (let il = range.from; il < range.to; il++) {
      const acquireStartMs = timer ? performance.now() : 0;
      // a resident source answers at once: no await (a microtask per layer) on the decode path
      const acquired = this.source.acquire(il);
      const weights = acquired instanceof Promise ? await acquired : acquired;
      const timing = this.runLayer(weights, { hidden: stacked.hidden, segments: stacked.segments, layer: il, onlyLastRows: lastRowsOnly && il === range.to - 1 }, acquireStartMs, timer);
      if (timing) timings.push({ ...timing, startAtMs: timing.startAtMs - callStartMs, endAtMs: timing.endAtMs - callStartMs });
    }
    if (batches.length > 1) this.unstack(stacked.hidden, batches);
    if (timer) this.recordHop(recorder, batches, timings, performance.now() - callStartMs);
    return batches.map((batch) => outputRows(batch, this.hparams.nEmbd, options.rows ?? "last"));
  }

  /** Every batch's rows in one matrix (a single batch is used as it is), with where each sequence's rows are. */
  private stack(batches: readonly SequenceBatch[]): Pick<BlockRun, "hidden" | "segments"> {
    const { nEmbd } = this.hparams;
    let rowStart = 0;
    const segments = batches.map((batch) => {
      const segment = { cache: this.cacheFor(batch.sequenceId), position: batch.position, rowStart, nTokens: batch.nTokens };
      rowStart += batch.nTokens;
      return segment;
    });
    if (batches.length === 1) return { hidden: batches[0].hidden, segments };
    const hidden = new Float32Array(rowStart * nEmbd);
    batches.forEach((batch, i) => hidden.set(batch.hidden.subarray(0, batch.nTokens * nEmbd), segments[i].rowStart * nEmbd));
    return { hidden, segments };
  }

  private unstack(hidden: Float32Array, batches: readonly SequenceBatch[]): void {
    const { nEmbd } = this.hparams;
    let row = 0;
    for (const batch of batches) {
      batch.hidden.set(hidden.subarray(row * nEmbd, (row + batch.nTokens) * nEmbd));
      row += batch.nTokens;
    }
  }

  /**
   * One layer over every sequence's rows at once, on its acquired weights (released here); with a
   * timer, its timing (times absolute, performance.now()).
   */
  private runLayer(weights: LayerWeights, run: BlockRun, acquireStartMs: number, timer: OpTimer | undefined): LayerTiming | undefined {
    const il = run.layer;
    const start = timer ? timer.start() : performance.now();
    try {
      forwardBlock(this.block, weights, run, timer);
    } finally {
      this.source.release(il);
    }
    const end = performance.now();
    this.computeSeconds += (end - start) / 1000;
    this.layerRuns++;
    if (!timer) return undefined;
    // the whole acquire counts as IO: waiting for the read, and starting reads (buffers, read-ahead)
    const { cacheHit, bytesRead } = this.source.lastAcquire;
    return { layer: il, cacheHit, bytesRead, ioWaitMs: start - acquireStartMs, opMs: timer.opMs(), startAtMs: acquireStartMs, endAtMs: end };
  }

  private recordHop(recorder: Recorder, batches: readonly SequenceBatch[], layers: LayerTiming[], totalMs: number): void {
    const first = batches[0];
    const nTokens = batches.reduce((n, b) => n + b.nTokens, 0);
    recorder.hop({ node: -1, requestId: 0, sequenceId: first?.sequenceId ?? 0, position: first?.position ?? 0, nTokens, queueMs: 0, decodeMs: 0, encodeMs: 0, bytesSent: 0, layers, totalMs });
  }

  private check(batches: readonly SequenceBatch[], range: LayerRange): void {
    const { nLayer, nEmbd } = this.hparams;
    if (!(Number.isInteger(range.from) && Number.isInteger(range.to) && 0 <= range.from && range.from <= range.to && range.to <= nLayer)) {
      throw new OptionError("BAD_LAYER_RANGE", `layer range [${range.from}, ${range.to}) is outside [0, ${nLayer})`);
    }
    const ids = new Set<number>();
    for (const batch of batches) {
      if (!(batch.nTokens > 0) || batch.hidden.length < batch.nTokens * nEmbd) {
        throw new OptionError("BAD_BATCH", `a batch of ${batch.nTokens} tokens needs ${batch.nTokens * nEmbd} hidden values, got ${batch.hidden.length}`);
      }
      if (ids.has(batch.sequenceId)) throw new OptionError("BAD_BATCH", `sequence ${batch.sequenceId} appears twice in one call`);
      ids.add(batch.sequenceId);
      if (range.from < range.to) this.checkPosition(batch, range.from);
    }
  }

  /**
   * Before any work: the rows fit the context, and start at most where the sequence's cache
   * ends (a jump ahead would otherwise first grow the RoPE table to the far position — gigabytes
   * and seconds for a position of 2^25 — before the KV cache refused it).
   */
  private checkPosition(batch: SequenceBatch, firstLayer: number): void {
    const { position, nTokens, sequenceId } = batch;
    const { contextSize } = this.options;
    if (!Number.isSafeInteger(position) || position < 0 || position + nTokens > contextSize) {
      throw new OptionError("BAD_POSITION", `sequence ${sequenceId}: positions [${position}, ${position + nTokens}) are outside the context of ${contextSize}`);
    }
    const held = this.caches.get(sequenceId)?.lengthOf(firstLayer) ?? 0;
    if (position > held) throw new OptionError("BAD_POSITION", `sequence ${sequenceId} holds ${held} positions at layer ${firstLayer}, cannot continue at position ${position}`);
  }

  async truncate(sequenceId: number, position: number): Promise<void> {
    if (position === 0) {
      this.caches.delete(sequenceId);
      this.lastUsedMs.delete(sequenceId);
    } else {
      this.caches.get(sequenceId)?.truncate(position);
    }
  }

  async stats(): Promise<RunnerStats> {
    return { computeSeconds: this.computeSeconds, layerRuns: this.layerRuns, ...this.source.stats() };
  }

  async collectTelemetry(): Promise<void> {}

  describe(): string {
    return `local, ${this.source.describe()}`;
  }

  /** sequences holding a KV cache now */
  get sequenceCount(): number {
    return this.caches.size;
  }

  hasSequence(sequenceId: number): boolean {
    return this.caches.has(sequenceId);
  }

  /** Frees the KV caches of sequences unused for `idleMs`; returns how many. */
  freeIdle(idleMs: number, nowMs = performance.now()): number {
    let freed = 0;
    for (const [id, usedMs] of this.lastUsedMs) {
      if (nowMs - usedMs < idleMs) continue;
      this.caches.delete(id);
      this.lastUsedMs.delete(id);
      freed++;
    }
    return freed;
  }

  private cacheFor(sequenceId: number): KvCache {
    this.lastUsedMs.set(sequenceId, performance.now());
    let cache = this.caches.get(sequenceId);
    if (!cache) {
      const { nHeadKv, headDim } = this.hparams;
      cache = new KvCache(nHeadKv * headDim, this.options.contextSize, this.options.kvType, this.options.backend.toHalf);
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
