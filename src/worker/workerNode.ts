/**
 * A worker: one ROUTER socket bound to the listen address answers the root (HELLO, ASSIGN,
 * TRUNCATE, STATS, PING) and receives ACTIVATIONS from the root or the previous worker; it
 * runs its stage and sends the output onward over a DEALER to the next worker, or as RESULT
 * back to the root over the root's own connection (so the root needs no reachable address).
 *
 * It survives any frame: a message that does not decode is counted and answered with ERROR
 * (the ProtocolError code) to its sender; nothing a peer sends ends the loop.
 */
import * as zmq from "zeromq";
import type { Model } from "../engine/model/model.js";
import { decodeActivations, encodeActivations } from "../protocol/activations.js";
import { encodeControl, type ModelIdentity } from "../protocol/control.js";
import { decodeAssign, decodeHello, decodeStatsRequestPayload, type WorkerStats } from "../protocol/clusterControl.js";
import { FLAG_PROFILE, type HopTiming, type WorkerFacts } from "../protocol/profileRecords.js";
import { MAX_PROFILE_HOPS } from "../protocol/profileCodec.js";
import { machineFacts } from "./machineFacts.js";
import type { LayerSource } from "../engine/model/localLayerRunner.js";
import { StreamingLayerSource } from "../engine/streaming/streamingLayerSource.js";
import { ProtocolError } from "../protocol/errors.js";
import { MessageType, PayloadEncoding, type Header } from "../protocol/header.js";
import { decodeMessage, encodeMessage, type Message } from "../protocol/message.js";
import { describeIdentity, sameModel } from "./modelIdentity.js";
import { AssignmentError, WorkerAssignment } from "./workerAssignment.js";

export interface WorkerNodeOptions {
  readonly model: Model;
  readonly identity: ModelIdentity;
  readonly maxMemoryBytes?: number;
  /** leave streamed layers in the OS page cache too */
  readonly keepPageCache?: boolean;
  /** kernels in use, for profile reports, e.g. "native avx512, 2 threads" */
  readonly kernels?: string;
  /** one line per notable event (refusals, rejected frames, assignments) */
  readonly log: (line: string) => void;
}

type Frames = Uint8Array[];

const NO_LAYERS = { position: 0, sequenceId: 0, layerFrom: 0, layerTo: 0, nTokens: 0, flags: 0 } as const;

export class WorkerNode implements AsyncDisposable {
  private readonly router = new zmq.Router({ linger: 200 });
  private readonly hops = new Map<string, zmq.Dealer>();
  private assignment?: WorkerAssignment;
  /** routing id of the root that sent the current assignment */
  private root?: Uint8Array;
  /** routing ids (hex) of peers whose HELLO showed a different model */
  private readonly refused = new Set<string>();
  private stats = { computeSeconds: 0, batches: 0, wireBytesSent: 0, messagesSent: 0 };
  /** hop records of profiled batches (FLAG_PROFILE), until a STATS request takes them */
  private profile: HopTiming[] = [];
  /** layer runs since ASSIGN (each a cache hit when every layer is resident) */
  private cacheRuns = 0;
  badFrames = 0;
  private closed = false;

  constructor(private readonly options: WorkerNodeOptions) {}

  /** Binds `address` (port `*` or 0 picks a free one) and returns the address actually bound. */
  async listen(address: string): Promise<string> {
    await this.router.bind(address.replace(/:0$/, ":*"));
    return this.router.lastEndpoint ?? address;
  }

  /** Serves until close(). */
  async serve(): Promise<void> {
    try {
      for await (const [peer, ...frames] of this.router) {
        await this.handle(peer, frames, performance.now());
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private async handle(peer: Uint8Array, frames: Frames, receivedAtMs: number): Promise<void> {
    let message: Message;
    try {
      message = decodeMessage(frames);
    } catch (error) {
      this.reject(error, `a ${frames.length}-frame message`);
      await this.replyError(peer, 0, error);
      return;
    }
    const { header, payload } = message;
    try {
      switch (header.type) {
        case MessageType.HELLO:
          return await this.onHello(peer, header, payload);
        case MessageType.ASSIGN:
          return await this.onAssign(peer, header, payload);
        case MessageType.ACTIVATIONS:
          return await this.onActivations(peer, header, payload, receivedAtMs);
        case MessageType.TRUNCATE:
          await this.assignment?.runner.truncateSequence(header.sequenceId, header.position);
          return await this.reply(peer, { ...NO_LAYERS, type: MessageType.TRUNCATE, requestId: header.requestId, sequenceId: header.sequenceId, position: header.position, encoding: PayloadEncoding.NONE });
        case MessageType.STATS:
          return await this.reply(peer, control(MessageType.STATS, header.requestId), encodeControl(await this.statsReply(payload)));
        case MessageType.PING:
          return await this.reply(peer, control(MessageType.PONG, header.requestId, PayloadEncoding.NONE));
        case MessageType.ERROR:
          this.badFrames++;
          this.options.log(`received an ERROR message from a peer (request ${header.requestId}); dropped`);
          return;
        default:
          throw new ProtocolError("BAD_TYPE", `a worker does not accept ${MessageType[header.type]} messages`);
      }
    } catch (error) {
      if (error instanceof ProtocolError) this.reject(error, MessageType[header.type]);
      else this.options.log(`request ${header.requestId} (${MessageType[header.type]}) failed: ${(error as Error).message}`);
      await this.replyError(peer, header.requestId, error);
      // the root waits for activations it sent into the pipeline: tell it too
      if (header.type === MessageType.ACTIVATIONS && this.root && !sameBytes(this.root, peer)) await this.replyError(this.root, header.requestId, error);
    }
  }

  private async onHello(peer: Uint8Array, header: Header, payload: Uint8Array): Promise<void> {
    const rootIdentity = decodeHello(payload);
    const own = this.options.identity;
    if (!sameModel(rootIdentity, own)) {
      this.refused.add(hex(peer));
      this.options.log(`refusing a root with a different model file: root has ${describeIdentity(rootIdentity)}; this worker has ${describeIdentity(own)}`);
    } else {
      this.refused.delete(hex(peer));
    }
    await this.reply(peer, control(MessageType.HELLO_REPLY, header.requestId), encodeControl(own));
  }

  private async onAssign(peer: Uint8Array, header: Header, payload: Uint8Array): Promise<void> {
    if (this.refused.has(hex(peer))) throw new AssignmentError("MODEL_MISMATCH", "this worker refused the root: different model file");
    const plan = decodeAssign(payload);
    await this.dropAssignment();
    this.assignment = await WorkerAssignment.create(this.options.model, plan, this.options.maxMemoryBytes, this.options.keepPageCache);
    this.root = peer;
    this.stats = { computeSeconds: 0, batches: 0, wireBytesSent: 0, messagesSent: 0 };
    this.cacheRuns = 0;
    this.options.log(
      `assigned ${this.assignment.describeLayers()} of ${this.options.model.hparams.nLayer} (worker ${plan.workerIndex + 1} of ${plan.addresses.length}, ` +
        `wire ${PayloadEncoding[plan.encoding].toLowerCase()}, kv ${plan.kvType}, ${this.assignment.runner.describe()})`,
    );
    await this.reply(peer, { ...NO_LAYERS, type: MessageType.ASSIGN, requestId: header.requestId, encoding: PayloadEncoding.NONE });
  }

  private async onActivations(peer: Uint8Array, header: Header, payload: Uint8Array, receivedAtMs: number): Promise<void> {
    const assignment = this.assignment;
    if (!assignment || !this.root) throw new AssignmentError("NOT_ASSIGNED", "no layers assigned yet");
    const stageIndex = assignment.stageIndex(header.layerFrom, header.layerTo);
    if (stageIndex === undefined) {
      throw new ProtocolError("BAD_LAYER_RANGE", `layers [${header.layerFrom}, ${header.layerTo}) are not a stage of this worker (${assignment.describeLayers()})`);
    }
    if (header.nTokens === 0) throw new ProtocolError("BAD_VALUE", "an activation batch needs at least one token");
    const profiled = (header.flags & FLAG_PROFILE) !== 0;
    // per batch: a later unprofiled run must not keep recording (nobody would take the records)
    assignment.runner.setProfiling(profiled);
    const { nEmbd } = this.options.model.hparams;
    const decodeStart = performance.now();
    const hidden = decodeActivations(payload, header.encoding, header.nTokens * nEmbd);
    const start = performance.now();
    await assignment.runner.run({ sequenceId: header.sequenceId, position: header.position, nTokens: header.nTokens, hidden }, header.layerFrom, header.layerTo);
    const computeEnd = performance.now();
    this.stats.computeSeconds += (computeEnd - start) / 1000;
    this.cacheRuns += header.layerTo - header.layerFrom;
    this.stats.batches++;

    const encoding = assignment.plan.encoding;
    const next = assignment.nextHop(stageIndex);
    let frames: Frames;
    if (next.kind === "worker") {
      frames = encodeMessage({ ...header, type: MessageType.ACTIVATIONS, layerFrom: next.stage.layerFrom, layerTo: next.stage.layerTo, encoding }, encodeActivations(hidden, encoding));
    } else {
      // only the last row is complete after the model's last layer (and only it is needed)
      const lastRow = hidden.subarray((header.nTokens - 1) * nEmbd, header.nTokens * nEmbd);
      frames = encodeMessage({ ...header, type: MessageType.RESULT, position: header.position + header.nTokens - 1, nTokens: 1, encoding }, encodeActivations(lastRow, encoding));
    }
    const encodeEnd = performance.now();
    if (next.kind === "worker") await this.sendTracked(this.hop(next.address), frames);
    else await this.sendTracked(this.router, [this.root, ...frames], frames);
    if (profiled && this.profile.length < MAX_PROFILE_HOPS) {
      this.profile.push({
        node: assignment.plan.workerIndex,
        requestId: header.requestId,
        sequenceId: header.sequenceId,
        position: header.position,
        nTokens: header.nTokens,
        queueMs: decodeStart - receivedAtMs,
        decodeMs: start - decodeStart,
        encodeMs: encodeEnd - computeEnd,
        bytesSent: frames.reduce((n, f) => n + f.length, 0),
        layers: assignment.runner.takeLayerTimings(receivedAtMs),
        // up to the hand-off to the socket: sending counts as network (the root's round trip minus the hops)
        totalMs: encodeEnd - receivedAtMs,
      });
    }
  }

  /** STATS reply: the counters, plus the hop records and machine facts when the request asks (`takeProfile`). */
  private async statsReply(payload: Uint8Array): Promise<WorkerStats> {
    const request = payload.length > 0 ? decodeStatsRequestPayload(payload) : { takeProfile: false };
    if (!request.takeProfile) return this.snapshot();
    const profile = this.profile;
    this.profile = [];
    const assignment = this.assignment;
    const layers = assignment?.ownLayers() ?? [];
    const { model, maxMemoryBytes } = this.options;
    const own = layers.map((il) => model.layers[il]);
    const budgetBytes = maxMemoryBytes ?? own.reduce((n, l) => n + l.nBytes, 0);
    const layersResident = StreamingLayerSource.layersThatFit(own, budgetBytes);
    const facts: WorkerFacts = { ...(await machineFacts()), budgetBytes, layers, layersResident, kernels: this.options.kernels ?? "" };
    return { ...this.snapshot(), profile, facts };
  }

  private reject(error: unknown, what: string): void {
    this.badFrames++;
    const code = error instanceof ProtocolError ? error.code : "INTERNAL";
    this.options.log(`rejected ${what}: ${code}: ${(error as Error).message} (${this.badFrames} rejected so far)`);
  }

  private async replyError(peer: Uint8Array, requestId: number, error: unknown): Promise<void> {
    const code = (error as { code?: unknown }).code;
    const body = { code: typeof code === "string" ? code : "INTERNAL", message: (error as Error).message ?? String(error) };
    await this.reply(peer, control(MessageType.ERROR, requestId), encodeControl(body));
  }

  private async reply(peer: Uint8Array, header: Omit<Header, "payloadBytes">, payload?: Uint8Array): Promise<void> {
    if (this.closed) return;
    await this.router.send([peer, ...encodeMessage(header, payload)]);
  }

  private async sendTracked(socket: zmq.Router | zmq.Dealer, frames: Frames, counted: Frames = frames): Promise<void> {
    await socket.send(frames);
    this.stats.messagesSent++;
    this.stats.wireBytesSent += counted.reduce((n, f) => n + f.length, 0);
  }

  /** A dealer to the next worker, connected once; anything it receives back is logged and dropped. */
  private hop(address: string): zmq.Dealer {
    let dealer = this.hops.get(address);
    if (!dealer) {
      const socket = new zmq.Dealer({ linger: 200 });
      socket.connect(address);
      this.hops.set(address, socket);
      void this.drain(socket, address);
      dealer = socket;
    }
    return dealer;
  }

  private async drain(socket: zmq.Dealer, address: string): Promise<void> {
    try {
      for await (const frames of socket) {
        let what = "an undecodable message";
        try {
          const { header } = decodeMessage(frames);
          what = MessageType[header.type];
        } catch {}
        this.options.log(`next worker ${address} sent back ${what}; dropped`);
      }
    } catch {}
  }

  snapshot(): WorkerStats {
    const runner = this.assignment?.runner;
    const cache = runner ? layerRunCounts(runner.source, this.cacheRuns) : { cacheHits: 0, cacheMisses: 0, bytesRead: 0 };
    return { ...this.stats, badFrames: this.badFrames, ...cache };
  }

  private async dropAssignment(): Promise<void> {
    const old = this.assignment;
    this.assignment = undefined;
    for (const dealer of this.hops.values()) dealer.close();
    this.hops.clear();
    await old?.[Symbol.asyncDispose]();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dropAssignment();
    this.router.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function control(type: MessageType, requestId: number, encoding = PayloadEncoding.MSGPACK): Omit<Header, "payloadBytes"> {
  return { ...NO_LAYERS, type, requestId, encoding };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** Cache counters of a worker's layer source: the streaming cache's own, or all hits when every layer is resident. */
function layerRunCounts(source: LayerSource, layerRuns: number): { cacheHits: number; cacheMisses: number; bytesRead: number } {
  if (source instanceof StreamingLayerSource) {
    const { cacheHits, cacheMisses, bytesRead } = source.snapshot();
    return { cacheHits, cacheMisses, bytesRead };
  }
  return { cacheHits: layerRuns, cacheMisses: 0, bytesRead: 0 };
}
