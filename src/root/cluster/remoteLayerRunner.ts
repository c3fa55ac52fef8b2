/**
 * LayerRunner over the cluster. The root keeps embeddings, final norm, head, tokenizer and
 * sampler; blocks run on workers. A call sends its batch (every sequence in one message) to the
 * worker whose stage holds the range's first layer; activations then go worker to worker in
 * layer order, and the worker that reaches the range's end sends the rows asked for back to the
 * root as RESULT. Any range works, and any number of sequences per call (docs/protocol.md);
 * several calls may be in flight at once (their requests are matched by id).
 *
 * Recovery: the runner logs every pass (SequenceLog). When a worker is lost (its connection
 * closes or its heartbeats stop), the pass in flight fails over: the layers are placed again
 * over the workers left (or run here, when none is), under a new session, every sequence's
 * passes are replayed to rebuild the KV caches, and the pass runs again — the caller sees only
 * the delay, and with an f32 wire the output is that of an uninterrupted run. A worker that
 * comes back (restarted, resumed) or is added joins at the next pass the same way.
 */
import { outputRows, type LayerRange, type LayerRunner, type RunOptions, type RunnerStats, type SequenceBatch } from "../../engine/model/layerRunner.js";
import type { ModelIdentity } from "../../protocol/control.js";
import { Q8_0_BLOCK_VALUES, type ActivationEncoding } from "../../protocol/activations.js";
import { controlHeader, MessageType, PayloadEncoding } from "../../protocol/header.js";
import { NULL_RECORDER, type Recorder } from "../../telemetry/recorder.js";
import { OptionError } from "../../engine/errors.js";
import type { LinkSecurity } from "../../host/linkSecurity.js";
import type { VerifyMode } from "../../host/modelIdentity.js";
import type { AssignMode, ExplicitRange, ModelFootprint } from "./assignment.js";
import { ClusterError, WorkerLinks } from "./workerLinks.js";
import { collectClusterStats, collectWorkerTelemetry, type ClusterStats } from "./clusterStats.js";
import { Pipeline } from "./pipeline.js";
import { passRequest, splitResult, type PassShape } from "./passMessages.js";
import { SequenceLog, type Embed } from "./sequenceLog.js";

export interface RemoteRunnerOptions {
  readonly addresses: readonly string[];
  readonly assign: AssignMode | readonly ExplicitRange[];
  readonly encoding: ActivationEncoding;
  /** the root's model: workers must have the same identity */
  readonly identity: ModelIdentity;
  readonly nEmbd: number;
  readonly kvType: string;
  /** flash attention's split-KV chunk count (llama.cpp's -fa numerics); absent: classic attention */
  readonly flashKvChunks?: number;
  readonly contextSize: number;
  /** sequences run at once (workers plan KV for this many) */
  readonly sequences?: number;
  readonly security: LinkSecurity;
  /** sizes for `auto` placement */
  readonly footprint?: ModelFootprint;
  /** re-embeds logged tokens at replay (without it, passes are logged as their input rows) */
  readonly embed?: Embed;
  /** runs every layer here when no worker is left (without it, losing the last worker fails the call) */
  readonly fallback?: () => Promise<LayerRunner>;
  readonly log: (line: string) => void;
  /** HELLO, ASSIGN, TRUNCATE, STATS (default 10 s) */
  readonly controlTimeoutMs?: number;
  /** one call through the pipeline (default 120 s; a lost worker fails it sooner) */
  readonly runTimeoutMs?: number;
  /** a fresh u32 session number (default: random) */
  readonly newSession?: () => number;
  /** "full": workers must prove the same full sha256 (default "sampled") */
  readonly verify?: VerifyMode;
}

/** What recoveries cost, for stats and the benchmark. */
export interface RecoveryRecord {
  readonly reason: string;
  /** from the last pass that completed to the loss being noticed (≈ the heartbeat timeout for a stalled worker) */
  readonly detectSeconds: number;
  /** from noticing the loss to the pass running again */
  readonly seconds: number;
  readonly replayedTokens: number;
  readonly replayedPasses: number;
}

export class RemoteLayerRunner implements LayerRunner {
  private rootBytesSent = 0;
  private tokens = 0;
  private roundTripSeconds = 0;
  private disposed = false;
  private readonly log: SequenceLog;
  /** the layout must change before the next pass: a worker was lost, came back or was added */
  private replanReason?: string;
  private readonly joining = new Set<number>();
  /** the layers run here after the last worker was lost */
  private local?: LayerRunner;
  /** sequences that ran partial ranges cannot be replayed */
  private unreplayable = false;
  readonly recoveries: RecoveryRecord[] = [];
  private recovering?: Promise<void>;
  /** counts layouts: a new one begins with each recovery */
  private layout = 0;
  /** performance.now() when the last pass completed, and when a loss was noticed */
  private lastPassEndMs = performance.now();
  private lostAtMs?: number;

  private constructor(
    private readonly links: WorkerLinks,
    private readonly pipeline: Pipeline,
    private readonly options: RemoteRunnerOptions,
  ) {
    this.log = new SequenceLog(options.nEmbd, options.embed);
  }

  /** Connects, checks every worker's model identity, assigns the layers and prints the assignment. */
  static async connect(options: RemoteRunnerOptions): Promise<RemoteLayerRunner> {
    const { addresses, encoding, nEmbd } = options;
    if (encoding === PayloadEncoding.Q8_0 && nEmbd % Q8_0_BLOCK_VALUES !== 0) {
      throw new OptionError("BAD_WIRE", `--wire q8_0 needs an embedding size that is a multiple of ${Q8_0_BLOCK_VALUES}; this model's is ${nEmbd} (use f16 or f32)`);
    }
    if (new Set(addresses).size !== addresses.length) throw new OptionError("BAD_WORKERS", `a worker address appears twice in ${addresses.join(",")}`);
    let runner: RemoteLayerRunner | undefined;
    const links = new WorkerLinks(addresses, options.security, options.log, { lost: (w, why) => runner?.onLost(w, why), back: (w) => runner?.onBack(w) }, options.controlTimeoutMs);
    const controlTimeoutMs = options.controlTimeoutMs ?? 10_000;
    const busyWaitMs = 1.5 * options.security.heartbeatTimeoutMs + 500;
    const pipeline = new Pipeline(links, { ...options, sequences: options.sequences ?? 1, controlTimeoutMs, busyWaitMs });
    runner = new RemoteLayerRunner(links, pipeline, options);
    try {
      await Promise.all(addresses.map((_, w) => pipeline.hello(w)));
      await pipeline.assign(addresses.map((_, w) => w), "assignment");
    } catch (error) {
      await links[Symbol.asyncDispose]();
      throw error;
    }
    return runner;
  }

  private get controlTimeoutMs(): number {
    return this.options.controlTimeoutMs ?? 10_000;
  }

  private get nLayer(): number {
    return this.options.identity.nLayer;
  }

  get stages() {
    return this.pipeline.stages;
  }

  private onLost(w: number, why: string): void {
    this.joining.delete(w);
    if (!this.pipeline.members.includes(w)) return;
    this.lostAtMs ??= performance.now();
    this.options.log(`worker ${this.links.addresses[w]} lost: ${why}`);
    this.replanReason ??= `worker ${this.links.addresses[w]} lost`;
  }

  private onBack(w: number): void {
    this.options.log(`worker ${this.links.addresses[w]} is back; it rejoins at the next pass`);
    this.joining.add(w);
    this.replanReason ??= `worker ${this.links.addresses[w]} rejoined`;
  }

  /** Connects to one more worker; it joins the pipeline at the next pass (when it has the model). */
  addWorker(address: string): void {
    if (this.links.addresses.includes(address)) throw new OptionError("BAD_WORKERS", `worker ${address} is already part of the cluster`);
    const w = this.links.add(address);
    this.joining.add(w);
    this.replanReason ??= `worker ${address} added`;
  }

  async run(batches: readonly SequenceBatch[], range: LayerRange, options: RunOptions = {}): Promise<Float32Array[]> {
    if (this.disposed) throw new ClusterError("CLOSED", "RemoteLayerRunner used after dispose");
    if (batches.length === 0 || range.from === range.to) return batches.map((b) => outputRows(b, this.options.nEmbd, options.rows ?? "last"));
    if (range.from < 0 || range.to > this.nLayer || range.to < range.from) {
      throw new OptionError("BAD_LAYER_RANGE", `layer range [${range.from}, ${range.to}) is outside the cluster's [0, ${this.nLayer})`);
    }
    const whole = range.from === 0 && range.to === this.nLayer;
    for (let attempt = 0; ; attempt++) {
      await this.recovered();
      const layout = this.layout;
      try {
        const out = await this.runOnce(batches, range, options);
        if (whole) this.log.record(batches);
        else this.unreplayable = true;
        this.lastPassEndMs = performance.now();
        return out;
      } catch (error) {
        if (!isLoss(error) || attempt >= this.links.size) throw error;
        // a call that failed on a layout already being replaced waits for that recovery
        if (layout === this.layout) this.replanReason ??= (error as Error).message;
      }
    }
  }

  /**
   * Waits while a recovery runs, and runs one when the layout must change. Calls in flight at a
   * loss all come here; one recovery serves them all, and no pass or truncation reaches the
   * workers while it replays.
   */
  private async recovered(): Promise<void> {
    while (this.recovering || this.replanReason !== undefined) {
      this.recovering ??= this.recover().finally(() => (this.recovering = undefined));
      await this.recovering;
    }
  }

  /** Passes that may usefully be in flight at once: one per worker of the pipeline (while one group of sequences is in a later stage, the next fills the first). */
  get concurrency(): number {
    return Math.max(1, new Set(this.pipeline.stages.map((s) => s.worker)).size);
  }

  /** One pass on the current layout (the workers, or this process after the last was lost). */
  private async runOnce(batches: readonly SequenceBatch[], range: LayerRange, options: RunOptions): Promise<Float32Array[]> {
    if (this.local) return this.local.run(batches, range, options);
    const stage = this.pipeline.stageOf(range.from)!;
    const recorder = options.recorder ?? NULL_RECORDER;
    const shape: PassShape = { session: this.pipeline.session, requestId: this.links.newRequestId(), nEmbd: this.options.nEmbd, encoding: this.options.encoding, rows: options.rows ?? "last", profiled: recorder.enabled };
    const { header, payload, nRows } = passRequest(batches, range, stage, shape);
    const start = performance.now();
    const what = `forward pass of ${nRows} tokens in ${batches.length} sequence${batches.length === 1 ? "" : "s"} through layers [${range.from}, ${range.to})`;
    const { reply, bytesSent } = await this.links.request(stage.worker, header, payload, MessageType.RESULT, this.options.runTimeoutMs ?? 120_000, what, "all");
    this.roundTripSeconds += (performance.now() - start) / 1000;
    this.rootBytesSent += bytesSent;
    this.tokens += nRows;
    if (recorder.enabled) recorder.sent(header.requestId, bytesSent);
    const last = this.pipeline.stageOf(range.to - 1)!;
    return splitResult(reply.header, reply.payload, batches, shape, this.links.addresses[last.worker]);
  }

  /**
   * Places the layers over the workers that answer (or here, when none does), then replays
   * every sequence's passes. Retried while workers keep failing; throws when it cannot recover.
   */
  private async recover(): Promise<void> {
    const reason = this.replanReason ?? "re-placement";
    if (this.unreplayable && this.log.nPasses > 0) throw new ClusterError("NOT_RECOVERABLE", `${reason}: the cluster ran partial layer ranges, which cannot be replayed`);
    this.layout++;
    const startMs = performance.now();
    const detectSeconds = this.lostAtMs === undefined ? 0 : Math.max(0, this.lostAtMs - this.lastPassEndMs) / 1000;
    this.lostAtMs = undefined;
    for (let attempt = 0; attempt <= this.links.size; attempt++) {
      this.replanReason = undefined;
      try {
        await this.relayout(reason);
        for (const pass of this.log.replay()) await this.runOnce(pass, { from: 0, to: this.nLayer }, { rows: "last" });
        const record = { reason, detectSeconds, seconds: (performance.now() - startMs) / 1000, replayedTokens: this.log.nTokens, replayedPasses: this.log.nPasses };
        this.recoveries.push(record);
        this.lastPassEndMs = performance.now();
        this.options.log(`recovered in ${record.seconds.toFixed(2)} s (noticed ${record.detectSeconds.toFixed(2)} s after the last pass): replayed ${record.replayedTokens} tokens of ${this.log.nSequences} sequence${this.log.nSequences === 1 ? "" : "s"} (${record.replayedPasses} passes)`);
        return;
      } catch (error) {
        if (!isLoss(error)) throw error;
        this.options.log(`recovery attempt ${attempt + 1} failed: ${(error as Error).message}`);
      }
    }
    throw new ClusterError("NOT_RECOVERABLE", `${reason}: could not place the layers on the workers left`);
  }

  /** A new layout: the live workers (those joining after a HELLO), or this process when none is left. */
  private async relayout(reason: string): Promise<void> {
    for (const w of [...this.joining]) {
      this.joining.delete(w);
      try {
        await this.pipeline.hello(w);
      } catch (error) {
        this.options.log(`worker ${this.links.addresses[w]} cannot join: ${(error as Error).message}`);
      }
    }
    const live = this.links.addresses.map((_, w) => w).filter((w) => !this.links.isLost(w) && this.pipeline.greeted.has(w));
    if (live.length === 0) return this.runHere(reason);
    await this.pipeline.assign(live, `${reason}: new assignment`);
    if (this.local) {
      const local = this.local;
      this.local = undefined;
      await local[Symbol.asyncDispose]();
      this.options.log("the layers run on workers again");
    }
  }

  private async runHere(reason: string): Promise<void> {
    if (!this.options.fallback) throw new ClusterError("NO_WORKERS", `${reason}: no worker is left to run the layers`);
    if (!this.local) {
      this.options.log(`${reason}: no worker is left; this process runs every layer until one comes back`);
      this.local = await this.options.fallback();
    }
  }

  async truncate(sequenceId: number, position: number): Promise<void> {
    if (this.recovering) await this.recovering;
    this.log.truncate(sequenceId, position);
    if (this.local) return this.local.truncate(sequenceId, position);
    if (this.replanReason !== undefined) return; // the replay before the next pass builds the caches from the cut log
    try {
      await Promise.all(
        this.pipeline.members.map((w) =>
          this.links.request(w, { ...controlHeader(MessageType.TRUNCATE, this.links.newRequestId(), PayloadEncoding.NONE), sequenceId, position }, undefined, MessageType.TRUNCATE, this.controlTimeoutMs, `TRUNCATE to worker ${this.links.addresses[w]}`),
        ),
      );
    } catch (error) {
      if (!isLoss(error)) throw error;
      this.replanReason ??= (error as Error).message;
    }
  }

  describe(): string {
    const { encoding } = this.options;
    const n = this.pipeline.members.length;
    if (this.local) return `this process (all ${this.links.size} workers lost)`;
    return `cluster of ${n} worker${n === 1 ? "" : "s"} (${this.pipeline.mode}, ${this.stages.length} stages, wire ${PayloadEncoding[encoding].toLowerCase()})`;
  }

  /** Every worker's counters since ASSIGN, summed, with the root's wire and round-trip figures. */
  async clusterStats(): Promise<ClusterStats> {
    const { encoding } = this.options;
    const root = { assign: this.pipeline.mode, wire: PayloadEncoding[encoding].toLowerCase(), rootBytesSent: this.rootBytesSent, tokens: this.tokens, roundTripSeconds: this.roundTripSeconds, recoveries: this.recoveries };
    // a worker lost since the last pass has nothing to report (its layers move at the next one)
    const answering = this.local ? [] : this.pipeline.members.filter((w) => !this.links.isLost(w));
    return collectClusterStats(this.links, answering, this.stages, this.controlTimeoutMs, root);
  }

  async stats(): Promise<RunnerStats> {
    return this.clusterStats();
  }

  /** Takes every worker's hop records (kept since the last call) and machine facts into `recorder`. */
  async collectTelemetry(recorder: Recorder): Promise<void> {
    await collectWorkerTelemetry(this.links, this.pipeline.members.filter((w) => !this.links.isLost(w)), this.controlTimeoutMs, recorder);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.local?.[Symbol.asyncDispose]();
    await this.links[Symbol.asyncDispose]();
  }
}

function isLoss(error: unknown): boolean {
  return error instanceof ClusterError && error.code === "WORKER_LOST";
}
