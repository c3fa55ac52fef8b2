/**
 * A worker: one ROUTER socket bound to the listen address answers the root (HELLO, ASSIGN,
 * TRUNCATE, STATS, PING) and receives ACTIVATIONS from the root or the previous worker; it runs
 * its layers and sends the output onward over a DEALER to the next worker, or as RESULT back
 * to the root over the root's own connection (so the root needs no reachable address).
 *
 * It survives any frame: a message that does not decode is counted and answered with ERROR
 * (the ProtocolError code) to its sender; nothing a peer sends ends the loop.
 */
import * as zmq from "zeromq";
import type { Model } from "../engine/model/model.js";
import { encodeControl, type ModelIdentity } from "../protocol/control.js";
import { decodeAssign, decodeHello, decodeStatsRequestPayload, type WorkerStats } from "../protocol/clusterControl.js";
import { MAX_PROFILE_HOPS } from "../protocol/profileCodec.js";
import { ProtocolError } from "../protocol/errors.js";
import { controlHeader, FLAG_PROFILE, MessageType, PayloadEncoding, type Header } from "../protocol/header.js";
import { decodeMessage, encodeMessage, type Message } from "../protocol/message.js";
import type { HopTiming, NodeFacts } from "../telemetry/records.js";
import { machineFacts } from "../telemetry/machineFacts.js";
import { NO_RUNNER_STATS } from "../engine/model/layerRunner.js";
import { describeIdentity, sameModel } from "../host/modelIdentity.js";
import { AssignmentError, WorkerAssignment, type WorkerMemoryOptions } from "./workerAssignment.js";
import { hopRecord, runBatch, type Frames } from "./workerBatch.js";

export interface WorkerNodeOptions extends WorkerMemoryOptions {
  readonly model: Model;
  readonly identity: ModelIdentity;
  /** kernels in use, for profile reports, e.g. "native avx512, 2 threads" */
  readonly kernels?: string;
  /** one line per notable event (refusals, rejected frames, assignments) */
  readonly log: (line: string) => void;
}

export class WorkerNode implements AsyncDisposable {
  private readonly router = new zmq.Router({ linger: 200 });
  private readonly hops = new Map<string, zmq.Dealer>();
  private assignment?: WorkerAssignment;
  /** routing id of the root that sent the current assignment */
  private root?: Uint8Array;
  /** routing ids (hex) of peers whose HELLO showed a different model */
  private readonly refused = new Set<string>();
  private counters = { batches: 0, wireBytesSent: 0, messagesSent: 0 };
  /** hop records of profiled batches (FLAG_PROFILE), until a STATS request takes them */
  private profile: HopTiming[] = [];
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
    const { header } = message;
    try {
      await this.dispatch(peer, message, receivedAtMs);
    } catch (error) {
      if (error instanceof ProtocolError) this.reject(error, MessageType[header.type]);
      else this.options.log(`request ${header.requestId} (${MessageType[header.type]}) failed: ${(error as Error).message}`);
      await this.replyError(peer, header.requestId, error);
      // the root waits for activations it sent into the pipeline: tell it too
      if (header.type === MessageType.ACTIVATIONS && this.root && !sameBytes(this.root, peer)) await this.replyError(this.root, header.requestId, error);
    }
  }

  private async dispatch(peer: Uint8Array, { header, payload }: Message, receivedAtMs: number): Promise<void> {
    switch (header.type) {
      case MessageType.HELLO:
        return this.onHello(peer, header, payload);
      case MessageType.ASSIGN:
        return this.onAssign(peer, header, payload);
      case MessageType.ACTIVATIONS:
        return this.onActivations(header, payload, receivedAtMs);
      case MessageType.TRUNCATE:
        await this.assignment?.host.runner.truncate(header.sequenceId, header.position);
        return this.reply(peer, { ...controlHeader(MessageType.TRUNCATE, header.requestId, PayloadEncoding.NONE), sequenceId: header.sequenceId, position: header.position });
      case MessageType.STATS:
        return this.reply(peer, controlHeader(MessageType.STATS, header.requestId), encodeControl(await this.statsReply(payload)));
      case MessageType.PING:
        return this.reply(peer, controlHeader(MessageType.PONG, header.requestId, PayloadEncoding.NONE));
      case MessageType.ERROR:
        this.badFrames++;
        this.options.log(`received an ERROR message from a peer (request ${header.requestId}); dropped`);
        return;
      default:
        throw new ProtocolError("BAD_TYPE", `a worker does not accept ${MessageType[header.type]} messages`);
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
    await this.reply(peer, controlHeader(MessageType.HELLO_REPLY, header.requestId), encodeControl(own));
  }

  private async onAssign(peer: Uint8Array, header: Header, payload: Uint8Array): Promise<void> {
    if (this.refused.has(hex(peer))) throw new AssignmentError("MODEL_MISMATCH", "this worker refused the root: different model file");
    const plan = decodeAssign(payload);
    await this.dropAssignment();
    this.assignment = await WorkerAssignment.create(this.options.model, plan, this.options);
    this.root = peer;
    this.counters = { batches: 0, wireBytesSent: 0, messagesSent: 0 };
    const { host } = this.assignment;
    this.options.log(
      `assigned ${this.assignment.describeLayers()} of ${this.options.model.hparams.nLayer} (worker ${plan.workerIndex + 1} of ${plan.addresses.length}, ` +
        `wire ${PayloadEncoding[plan.encoding].toLowerCase()}, kv ${plan.kvType}, ${host.runner.describe()}, ${host.plan.layersResident} of ${host.layers.length} layers fit)`,
    );
    await this.reply(peer, controlHeader(MessageType.ASSIGN, header.requestId, PayloadEncoding.NONE));
  }

  private async onActivations(header: Header, payload: Uint8Array, receivedAtMs: number): Promise<void> {
    const assignment = this.assignment;
    if (!assignment || !this.root) throw new AssignmentError("NOT_ASSIGNED", "no layers assigned yet");
    const profiled = (header.flags & FLAG_PROFILE) !== 0;
    const queueMs = performance.now() - receivedAtMs;
    const outcome = await runBatch(assignment, header, payload, this.options.model.hparams.nEmbd, profiled);
    this.counters.batches++;
    const handedOffMs = performance.now();
    if (outcome.to.kind === "worker") await this.sendTracked(this.hop(outcome.to.address), outcome.frames);
    else await this.sendTracked(this.router, [this.root, ...outcome.frames], outcome.frames);
    // up to the hand-off to the socket: sending counts as network (the root's round trip minus the hops)
    if (profiled && this.profile.length < MAX_PROFILE_HOPS) this.profile.push(hopRecord(assignment.plan.workerIndex, header, outcome, queueMs, handedOffMs - receivedAtMs));
  }

  /** STATS reply: the counters, plus the hop records and machine facts when the request asks (`takeProfile`). */
  private async statsReply(payload: Uint8Array): Promise<WorkerStats> {
    const request = payload.length > 0 ? decodeStatsRequestPayload(payload) : { takeProfile: false };
    const stats = await this.snapshot();
    if (!request.takeProfile) return stats;
    const profile = this.profile;
    this.profile = [];
    return { ...stats, profile, facts: await this.facts() };
  }

  private async facts(): Promise<NodeFacts> {
    const host = this.assignment?.host;
    return { ...(await machineFacts()), budgetBytes: host?.plan.budgetBytes ?? 0, layers: [...(host?.layers ?? [])], layersResident: host?.plan.layersResident ?? 0, kernels: this.options.kernels ?? "" };
  }

  private reject(error: unknown, what: string): void {
    this.badFrames++;
    const code = error instanceof ProtocolError ? error.code : "INTERNAL";
    this.options.log(`rejected ${what}: ${code}: ${(error as Error).message} (${this.badFrames} rejected so far)`);
  }

  private async replyError(peer: Uint8Array, requestId: number, error: unknown): Promise<void> {
    const code = (error as { code?: unknown }).code;
    const body = { code: typeof code === "string" ? code : "INTERNAL", message: (error as Error).message ?? String(error) };
    await this.reply(peer, controlHeader(MessageType.ERROR, requestId), encodeControl(body));
  }

  private async reply(peer: Uint8Array, header: Omit<Header, "payloadBytes">, payload?: Uint8Array): Promise<void> {
    if (this.closed) return;
    await this.router.send([peer, ...encodeMessage(header, payload)]);
  }

  private async sendTracked(socket: zmq.Router | zmq.Dealer, frames: Frames, counted: Frames = frames): Promise<void> {
    await socket.send(frames);
    this.counters.messagesSent++;
    this.counters.wireBytesSent += counted.reduce((n, f) => n + f.length, 0);
  }

  /** A dealer to the next worker, connected once; anything it receives back is logged and dropped. */
  private hop(address: string): zmq.Dealer {
    let dealer = this.hops.get(address);
    if (!dealer) {
      dealer = new zmq.Dealer({ linger: 200 });
      dealer.connect(address);
      this.hops.set(address, dealer);
      void this.drain(dealer, address);
    }
    return dealer;
  }

  private async drain(socket: zmq.Dealer, address: string): Promise<void> {
    try {
      for await (const frames of socket) {
        let what = "an undecodable message";
        try {
          what = MessageType[decodeMessage(frames).header.type];
        } catch {}
        this.options.log(`next worker ${address} sent back ${what}; dropped`);
      }
    } catch {}
  }

  /** Counters since the last ASSIGN (bad frames: since start). */
  async snapshot(): Promise<WorkerStats> {
    const runner = this.assignment ? await this.assignment.host.runner.stats() : NO_RUNNER_STATS;
    return { ...this.counters, badFrames: this.badFrames, ...runner };
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

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
