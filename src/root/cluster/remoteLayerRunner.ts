/**
 * LayerRunner over the cluster: the root keeps embeddings, final norm, head, tokenizer and
 * sampler; every block runs on workers. run(batch, 0, nLayer) sends the batch to the first
 * stage's worker; activations then go worker to worker in layer order and only the last
 * stage's output (the last row, the only complete one) comes back as RESULT.
 *
 * Ready for takeover (not implemented): every worker maps the same file and receives the
 * whole pipeline in ASSIGN, and the Session keeps the token history, so a survivor can be
 * re-assigned a dead worker's stages and rebuild their KV cache by replaying the history.
 */
import type { LayerBatch, LayerRunner } from "../../engine/model/layerRunner.js";
import type { ModelIdentity } from "../../protocol/control.js";
import { encodeControl, decodeModelIdentity } from "../../protocol/control.js";
import { decodeActivations, encodeActivations, type ActivationEncoding, Q8_0_BLOCK_VALUES } from "../../protocol/activations.js";
import { decodeWorkerStats, type AssignPayload, type PipelineStage, type WorkerStats } from "../../protocol/clusterControl.js";
import { MessageType, PayloadEncoding, type Header } from "../../protocol/header.js";
import { FLAG_PROFILE, type HopTiming, type WorkerFacts } from "../../protocol/profileRecords.js";
import { OptionError } from "../../engine/errors.js";
import { describeIdentity, sameModel } from "../../worker/modelIdentity.js";
import { assignLayers, describeAssignment, type AssignMode } from "./assignment.js";
import { ClusterError, WorkerLinks } from "./workerLinks.js";

export interface RemoteRunnerOptions {
  readonly addresses: readonly string[];
  readonly assign: AssignMode;
  readonly encoding: ActivationEncoding;
  /** the root's model: workers must have the same identity */
  readonly identity: ModelIdentity;
  readonly nEmbd: number;
  readonly kvType: string;
  readonly contextSize: number;
  readonly log: (line: string) => void;
  /** HELLO, ASSIGN, TRUNCATE, STATS (default 10 s) */
  readonly controlTimeoutMs?: number;
  /** one forward pass through the whole pipeline (default 120 s) */
  readonly runTimeoutMs?: number;
}

/**
 * Summary for --stats-json. `networkSeconds` is the time the root waited for results beyond
 * what the workers report as compute: round-trip time of every forward pass minus the
 * workers' time inside their layer runners (so it holds wire transfer, queueing and the
 * encoding/decoding of activations on every hop).
 */
export interface ClusterStats {
  workers: number;
  /** network transfers per forward pass: root → first stage, stage → stage, last stage → root */
  hops: number;
  assign: AssignMode;
  wire: string;
  /** activation and result messages (24-byte headers + payloads) sent by the root and every worker */
  wireBytesSent: number;
  /** wireBytesSent / tokens evaluated (prompt and generated) */
  wireBytesPerToken: number;
  roundTripSeconds: number;
  workerComputeSeconds: number;
  networkSeconds: number;
  /** frames the workers rejected since they started */
  workerBadFrames: number;
  /** the workers' layer caches, summed */
  cacheHits: number;
  cacheMisses: number;
  bytesRead: number;
  /** each worker's own counters */
  perWorker: WorkerShare[];
}

/** One worker's part of ClusterStats. */
export interface WorkerShare {
  address: string;
  /** e.g. "0-3" or "0, 2, 4" */
  layers: string;
  /** batches (activation messages) it ran, and its time inside its layers */
  batches: number;
  computeSeconds: number;
  /** computeSeconds per batch, in milliseconds: what one hop through this worker costs beyond the network */
  meanHopMs: number;
  cacheHits: number;
  cacheMisses: number;
  bytesRead: number;
  wireBytesSent: number;
}

const NO_LAYERS = { position: 0, sequenceId: 0, layerFrom: 0, layerTo: 0, nTokens: 0, flags: 0 } as const;

export class RemoteLayerRunner implements LayerRunner {
  private rootBytesSent = 0;
  private tokens = 0;
  private roundTripSeconds = 0;
  /** workers' compute time, filled in by stats() */
  computeSeconds = 0;
  /** when set, activations carry FLAG_PROFILE and every worker times its hops (see takeProfile) */
  profiling = false;
  /** the latest forward pass: its request id and the bytes the root sent for it (profiling) */
  lastRun: { requestId: number; bytesSent: number } = { requestId: 0, bytesSent: 0 };
  private disposed = false;

  private constructor(
    private readonly links: WorkerLinks,
    readonly stages: readonly PipelineStage[],
    private readonly nLayer: number,
    private readonly options: RemoteRunnerOptions,
  ) {}

  /** Connects, checks every worker's model identity, assigns the layers and prints the assignment. */
  static async connect(options: RemoteRunnerOptions): Promise<RemoteLayerRunner> {
    const { addresses, identity, encoding, nEmbd } = options;
    if (encoding === PayloadEncoding.Q8_0 && nEmbd % Q8_0_BLOCK_VALUES !== 0) {
      throw new OptionError("BAD_WIRE", `--wire q8_0 needs an embedding size that is a multiple of ${Q8_0_BLOCK_VALUES}; this model's is ${nEmbd} (use f16 or f32)`);
    }
    if (new Set(addresses).size !== addresses.length) throw new OptionError("BAD_WORKERS", `a worker address appears twice in ${addresses.join(",")}`);
    const stages = assignLayers(identity.nLayer, addresses.length, options.assign);
    const links = new WorkerLinks(addresses, options.log);
    const runner = new RemoteLayerRunner(links, stages, identity.nLayer, options);
    try {
      await runner.hello();
      options.log(`assignment (${options.assign}, wire ${PayloadEncoding[encoding].toLowerCase()}, ${stages.length} stages):`);
      for (const line of describeAssignment(stages, addresses)) options.log(`  ${line}`);
      await runner.assignAll();
    } catch (error) {
      await links[Symbol.asyncDispose]();
      throw error;
    }
    return runner;
  }

  private get controlTimeoutMs(): number {
    return this.options.controlTimeoutMs ?? 10_000;
  }

  private async hello(): Promise<void> {
    const { identity, addresses } = this.options;
    await Promise.all(
      addresses.map(async (address, w) => {
        const requestId = this.links.newRequestId();
        const { reply } = await this.links.request(w, control(MessageType.HELLO, requestId), encodeControl(identity), MessageType.HELLO_REPLY, this.controlTimeoutMs, `HELLO to worker ${address}`);
        const theirs = decodeModelIdentity(reply.payload);
        if (!sameModel(theirs, identity)) {
          throw new ClusterError(
            "MODEL_MISMATCH",
            `worker ${address} has a different model file: worker: ${describeIdentity(theirs)}; root: ${describeIdentity(identity)}`,
          );
        }
      }),
    );
  }

  private async assignAll(): Promise<void> {
    const { addresses, encoding, kvType, contextSize } = this.options;
    await Promise.all(
      addresses.map((address, w) => {
        const plan: AssignPayload = { workerIndex: w, addresses, stages: this.stages, encoding, kvType, contextSize };
        return this.links.request(w, control(MessageType.ASSIGN, this.links.newRequestId()), encodeControl(plan), MessageType.ASSIGN, this.controlTimeoutMs, `ASSIGN to worker ${address}`);
      }),
    );
  }

  async run(batch: LayerBatch, layerFrom: number, layerTo: number): Promise<Float32Array> {
    if (this.disposed) throw new ClusterError("CLOSED", "RemoteLayerRunner used after dispose");
    if (layerFrom !== 0 || layerTo !== this.nLayer) {
      throw new OptionError("BAD_LAYER_RANGE", `the cluster runs whole forward passes [0, ${this.nLayer}), not [${layerFrom}, ${layerTo})`);
    }
    const { nEmbd, encoding } = this.options;
    const { nTokens, position, sequenceId } = batch;
    const first = this.stages[0];
    const header: Omit<Header, "payloadBytes"> = {
      type: MessageType.ACTIVATIONS,
      requestId: this.links.newRequestId(),
      position,
      sequenceId,
      layerFrom: first.layerFrom,
      layerTo: first.layerTo,
      nTokens,
      encoding,
      flags: this.profiling ? FLAG_PROFILE : 0,
    };
    const start = performance.now();
    const { reply, bytesSent } = await this.links.request(
      first.worker,
      header,
      encodeActivations(batch.hidden.subarray(0, nTokens * nEmbd), encoding),
      MessageType.RESULT,
      this.options.runTimeoutMs ?? 120_000,
      `forward pass of ${nTokens} tokens at position ${position}`,
    );
    this.roundTripSeconds += (performance.now() - start) / 1000;
    this.rootBytesSent += bytesSent;
    this.lastRun = { requestId: header.requestId, bytesSent };
    this.tokens += nTokens;
    const lastRow = decodeActivations(reply.payload, reply.header.encoding, nEmbd);
    batch.hidden.set(lastRow, (nTokens - 1) * nEmbd);
    return batch.hidden;
  }

  async runMany(batches: readonly LayerBatch[], layerFrom: number, layerTo: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const batch of batches) out.push(await this.run(batch, layerFrom, layerTo));
    return out;
  }

  async truncateSequence(sequenceId: number, position: number): Promise<void> {
    await Promise.all(
      this.options.addresses.map((address, w) =>
        this.links.request(w, { ...control(MessageType.TRUNCATE, this.links.newRequestId(), PayloadEncoding.NONE), sequenceId, position }, undefined, MessageType.TRUNCATE, this.controlTimeoutMs, `TRUNCATE to worker ${address}`),
      ),
    );
  }

  describe(): string {
    const { addresses, assign, encoding } = this.options;
    return `cluster of ${addresses.length} worker${addresses.length === 1 ? "" : "s"} (${assign}, ${this.stages.length} stages, wire ${PayloadEncoding[encoding].toLowerCase()})`;
  }

  /** Takes every worker's hop records (kept since the last call) and machine facts. */
  async takeProfile(): Promise<{ hops: HopTiming[]; workers: { address: string; facts: WorkerFacts }[] }> {
    const replies = await Promise.all(
      this.options.addresses.map(async (address, w) => {
        const { reply } = await this.links.request(w, control(MessageType.STATS, this.links.newRequestId()), encodeControl({ takeProfile: true }), MessageType.STATS, this.controlTimeoutMs, `STATS from worker ${address}`);
        const stats = decodeWorkerStats(reply.payload);
        if (!stats.facts || !stats.profile) throw new ClusterError("BAD_REPLY", `worker ${address} sent no profile (an older layerstream?)`);
        return { address, facts: stats.facts, hops: stats.profile };
      }),
    );
    return { hops: replies.flatMap((r) => r.hops), workers: replies.map(({ address, facts }) => ({ address, facts })) };
  }

  /** Asks every worker for its counters (since ASSIGN) and sums them with the root's. */
  async stats(): Promise<ClusterStats> {
    const { addresses, assign, encoding } = this.options;
    const all: WorkerStats[] = await Promise.all(
      addresses.map(async (address, w) => {
        const { reply } = await this.links.request(w, control(MessageType.STATS, this.links.newRequestId(), PayloadEncoding.NONE), undefined, MessageType.STATS, this.controlTimeoutMs, `STATS from worker ${address}`);
        return decodeWorkerStats(reply.payload);
      }),
    );
    const workerComputeSeconds = all.reduce((s, x) => s + x.computeSeconds, 0);
    const wireBytesSent = this.rootBytesSent + all.reduce((s, x) => s + x.wireBytesSent, 0);
    this.computeSeconds = workerComputeSeconds;
    return {
      workers: addresses.length,
      hops: this.stages.length + 1,
      assign,
      wire: PayloadEncoding[encoding].toLowerCase(),
      wireBytesSent,
      wireBytesPerToken: this.tokens > 0 ? wireBytesSent / this.tokens : 0,
      roundTripSeconds: this.roundTripSeconds,
      workerComputeSeconds,
      networkSeconds: Math.max(0, this.roundTripSeconds - workerComputeSeconds),
      workerBadFrames: all.reduce((s, x) => s + x.badFrames, 0),
      cacheHits: all.reduce((s, x) => s + (x.cacheHits ?? 0), 0),
      cacheMisses: all.reduce((s, x) => s + (x.cacheMisses ?? 0), 0),
      bytesRead: all.reduce((s, x) => s + (x.bytesRead ?? 0), 0),
      perWorker: all.map((x, w) => ({
        address: addresses[w],
        layers: describeAssignment(this.stages, addresses)[w].replace(/^.*: layers /, ""),
        batches: x.batches,
        computeSeconds: x.computeSeconds,
        meanHopMs: x.batches > 0 ? (1000 * x.computeSeconds) / x.batches : 0,
        cacheHits: x.cacheHits ?? 0,
        cacheMisses: x.cacheMisses ?? 0,
        bytesRead: x.bytesRead ?? 0,
        wireBytesSent: x.wireBytesSent,
      })),
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.links[Symbol.asyncDispose]();
  }
}

function control(type: MessageType, requestId: number, encoding = PayloadEncoding.MSGPACK): Omit<Header, "payloadBytes"> {
  return { ...NO_LAYERS, type, requestId, encoding };
}
