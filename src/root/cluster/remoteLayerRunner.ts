/**
 * LayerRunner over the cluster. The root keeps embeddings, final norm, head, tokenizer and
 * sampler; blocks run on workers. A call sends its batch (every sequence in one message) to the
 * worker whose stage holds the range's first layer; activations then go worker to worker in
 * layer order, and the worker that reaches the range's end sends the rows asked for back to the
 * root as RESULT. Any range works, and any number of sequences per call (protocol version 2,
 * docs/protocol.md); several calls may be in flight at once (their requests are matched by id).
 */
import { outputRows, type LayerRange, type LayerRunner, type RunOptions, type RunnerStats, type SequenceBatch } from "../../engine/model/layerRunner.js";
import type { ModelIdentity } from "../../protocol/control.js";
import { encodeControl, decodeModelIdentity } from "../../protocol/control.js";
import { Q8_0_BLOCK_VALUES, type ActivationEncoding } from "../../protocol/activations.js";
import { decodeBatch, encodeBatch, type DecodedBatch } from "../../protocol/batch.js";
import type { AssignPayload, PipelineStage } from "../../protocol/clusterControl.js";
import { controlHeader, FLAG_PROFILE, MessageType, PayloadEncoding, type Header } from "../../protocol/header.js";
import { NULL_RECORDER, type Recorder } from "../../telemetry/recorder.js";
import { OptionError } from "../../engine/errors.js";
import { describeIdentity, sameModel } from "../../host/modelIdentity.js";
import { assignLayers, describeAssignment, type AssignMode } from "./assignment.js";
import { ClusterError, WorkerLinks } from "./workerLinks.js";
import { collectClusterStats, collectWorkerTelemetry, type ClusterStats } from "./clusterStats.js";

export interface RemoteRunnerOptions {
  readonly addresses: readonly string[];
  readonly assign: AssignMode;
  readonly encoding: ActivationEncoding;
  /** the root's model: workers must have the same identity */
  readonly identity: ModelIdentity;
  readonly nEmbd: number;
  readonly kvType: string;
  readonly contextSize: number;
  /** sequences run at once (workers plan KV for this many) */
  readonly sequences?: number;
  readonly log: (line: string) => void;
  /** HELLO, ASSIGN, TRUNCATE, STATS (default 10 s) */
  readonly controlTimeoutMs?: number;
  /** one call through the pipeline (default 120 s) */
  readonly runTimeoutMs?: number;
}

export class RemoteLayerRunner implements LayerRunner {
  private rootBytesSent = 0;
  private tokens = 0;
  private roundTripSeconds = 0;
  private disposed = false;

  private constructor(
    private readonly links: WorkerLinks,
    readonly stages: readonly PipelineStage[],
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
    const runner = new RemoteLayerRunner(links, stages, options);
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
        const { reply } = await this.links.request(w, controlHeader(MessageType.HELLO, this.links.newRequestId()), encodeControl(identity), MessageType.HELLO_REPLY, this.controlTimeoutMs, `HELLO to worker ${address}`);
        const theirs = decodeModelIdentity(reply.payload);
        if (!sameModel(theirs, identity)) {
          throw new ClusterError("MODEL_MISMATCH", `worker ${address} has a different model file: worker: ${describeIdentity(theirs)}; root: ${describeIdentity(identity)}`);
        }
      }),
    );
  }

  private async assignAll(): Promise<void> {
    const { addresses, encoding, kvType, contextSize, sequences = 1 } = this.options;
    await Promise.all(
      addresses.map((address, w) => {
        const plan: AssignPayload = { workerIndex: w, addresses, stages: this.stages, encoding, kvType, contextSize, sequences };
        return this.links.request(w, controlHeader(MessageType.ASSIGN, this.links.newRequestId()), encodeControl(plan), MessageType.ASSIGN, this.controlTimeoutMs, `ASSIGN to worker ${address}`);
      }),
    );
  }

  async run(batches: readonly SequenceBatch[], range: LayerRange, options: RunOptions = {}): Promise<Float32Array[]> {
    if (this.disposed) throw new ClusterError("CLOSED", "RemoteLayerRunner used after dispose");
    if (batches.length === 0 || range.from === range.to) return batches.map((b) => outputRows(b, this.options.nEmbd, options.rows ?? "last"));
    const stage = this.stages.find((s) => s.layerFrom <= range.from && range.from < s.layerTo);
    if (!stage || range.to > this.stages.at(-1)!.layerTo || range.to < range.from) {
      throw new OptionError("BAD_LAYER_RANGE", `layer range [${range.from}, ${range.to}) is outside the cluster's [0, ${this.stages.at(-1)!.layerTo})`);
    }
    const rows = options.rows ?? "last";
    const recorder = options.recorder ?? NULL_RECORDER;
    const { header, payload, nRows } = this.request(batches, range, stage, rows, recorder);
    const start = performance.now();
    const what = `forward pass of ${nRows} tokens in ${batches.length} sequence${batches.length === 1 ? "" : "s"} through layers [${range.from}, ${range.to})`;
    const { reply, bytesSent } = await this.links.request(stage.worker, header, payload, MessageType.RESULT, this.options.runTimeoutMs ?? 120_000, what);
    this.roundTripSeconds += (performance.now() - start) / 1000;
    this.rootBytesSent += bytesSent;
    this.tokens += nRows;
    if (recorder.enabled) recorder.sent(header.requestId, bytesSent);
    return this.splitResult(reply.header, reply.payload, batches, rows, range);
  }

  private request(batches: readonly SequenceBatch[], range: LayerRange, stage: PipelineStage, rows: "last" | "all", recorder: Recorder) {
    const { nEmbd, encoding } = this.options;
    const nRows = batches.reduce((n, b) => n + b.nTokens, 0);
    const values = new Float32Array(nRows * nEmbd);
    let at = 0;
    for (const b of batches) {
      values.set(b.hidden.subarray(0, b.nTokens * nEmbd), at);
      at += b.nTokens * nEmbd;
    }
    const sequences = batches.map(({ sequenceId, position, nTokens }) => ({ sequenceId, position, nTokens }));
    const header: Omit<Header, "payloadBytes"> = {
      type: MessageType.ACTIVATIONS,
      requestId: this.links.newRequestId(),
      position: batches[0].position,
      sequenceId: batches[0].sequenceId,
      layerFrom: range.from,
      layerTo: Math.min(stage.layerTo, range.to),
      nTokens: nRows,
      encoding,
      flags: recorder.enabled ? FLAG_PROFILE : 0,
    };
    return { header, payload: encodeBatch({ endLayer: range.to, rows, sequences }, values, encoding), nRows };
  }

  /** The RESULT, checked against what was sent, split per sequence. */
  private splitResult(header: Header, payload: Uint8Array, batches: readonly SequenceBatch[], rows: "last" | "all", range: LayerRange): Float32Array[] {
    const { nEmbd } = this.options;
    const worker = this.options.addresses[this.stages.find((s) => s.layerTo >= range.to && s.layerFrom < range.to)?.worker ?? 0];
    let result: DecodedBatch;
    try {
      result = decodeBatch(payload, header, nEmbd);
    } catch (error) {
      throw new ClusterError("BAD_REPLY", `worker ${worker} sent a malformed RESULT: ${(error as Error).message}`);
    }
    const expected = batches.map((b) => ({ sequenceId: b.sequenceId, nTokens: rows === "all" ? b.nTokens : 1 }));
    const matches = result.sequences.length === expected.length && result.sequences.every((s, i) => s.sequenceId === expected[i].sequenceId && s.nTokens === expected[i].nTokens);
    if (!matches) throw new ClusterError("BAD_REPLY", `worker ${worker} sent a RESULT for other sequences or rows than were asked for`);
    let at = 0;
    return result.sequences.map((s) => {
      const out = result.values.subarray(at, at + s.nTokens * nEmbd);
      at += s.nTokens * nEmbd;
      return out;
    });
  }

  async truncate(sequenceId: number, position: number): Promise<void> {
    await Promise.all(
      this.options.addresses.map((address, w) =>
        this.links.request(w, { ...controlHeader(MessageType.TRUNCATE, this.links.newRequestId(), PayloadEncoding.NONE), sequenceId, position }, undefined, MessageType.TRUNCATE, this.controlTimeoutMs, `TRUNCATE to worker ${address}`),
      ),
    );
  }

  describe(): string {
    const { addresses, assign, encoding } = this.options;
    return `cluster of ${addresses.length} worker${addresses.length === 1 ? "" : "s"} (${assign}, ${this.stages.length} stages, wire ${PayloadEncoding[encoding].toLowerCase()})`;
  }

  /** Every worker's counters since ASSIGN, summed, with the root's wire and round-trip figures. */
  async clusterStats(): Promise<ClusterStats> {
    const { addresses, assign, encoding } = this.options;
    return collectClusterStats(this.links, this.stages, this.controlTimeoutMs, { assign, wire: PayloadEncoding[encoding].toLowerCase(), addresses, rootBytesSent: this.rootBytesSent, tokens: this.tokens, roundTripSeconds: this.roundTripSeconds });
  }

  async stats(): Promise<RunnerStats> {
    return this.clusterStats();
  }

  /** Takes every worker's hop records (kept since the last call) and machine facts into `recorder`. */
  async collectTelemetry(recorder: Recorder): Promise<void> {
    await collectWorkerTelemetry(this.links, this.controlTimeoutMs, recorder);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.links[Symbol.asyncDispose]();
  }
}
