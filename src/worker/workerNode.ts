/**
 * A worker: one ROUTER socket bound to the listen address answers the root (HELLO, ASSIGN,
 * TRUNCATE, STATS, PING) and receives ACTIVATIONS from the root or the previous worker; it runs
 * its layers and sends the output onward to the next worker, or as RESULT back to the root over
 * the root's own connection (so the root needs no reachable address).
 *
 * Trust: with a cluster key every link is CurveZMQ and only peers holding the key get in (the
 * process's ZAP handler); onward links are made with the key too, so nothing is sent to a next
 * hop that cannot prove it holds it. One root session at a time (WorkerSession): batches of any
 * other session are refused, and the session is freed when its root goes away (ZMTP heartbeats
 * notice a dead or stalled root within the heartbeat timeout). Frames, batches and contexts are
 * bounded (WorkerLimits). It survives any frame: a message that does not decode is counted and
 * answered with ERROR (the ProtocolError code) to its sender; nothing a peer sends ends the loop.
 */
import path from "node:path";
import * as zmq from "zeromq";
import { encodeControl } from "../protocol/control.js";
import { decodeAssign, decodeHello, decodeStatsRequestPayload, encodeHelloReply, type WorkerStats, type WorkerStatus } from "../protocol/clusterControl.js";
import { MAX_PROFILE_HOPS } from "../protocol/profileCodec.js";
import { ProtocolError } from "../protocol/errors.js";
import { controlHeader, FLAG_PROFILE, MessageType, PayloadEncoding, type Header } from "../protocol/header.js";
import { decodeMessage, encodeMessage, type Message } from "../protocol/message.js";
import type { HopTiming, NodeFacts } from "../telemetry/records.js";
import { machineFacts } from "../telemetry/machineFacts.js";
import { NO_RUNNER_STATS } from "../engine/model/layerRunner.js";
import { compareModels, describeIdentity, type VerifyMode } from "../host/modelIdentity.js";
import { serverSocketOptions, ZapLease, type LinkSecurity } from "../host/linkSecurity.js";
import { AssignmentError, type WorkerMemoryOptions } from "./workerAssignment.js";
import { hopRecord, runBatch, type Frames } from "./workerBatch.js";
import { busyError, WorkerSession, type ServedModel } from "./workerSession.js";
import { checkContext, DEFAULT_WORKER_LIMITS, type WorkerLimits } from "./workerLimits.js";
import { OnwardLinks } from "./onwardLinks.js";

export interface WorkerNodeOptions extends WorkerMemoryOptions {
  /** the models this worker serves (the files it was started with; it opens no other) */
  readonly models: readonly ServedModel[];
  readonly security: LinkSecurity;
  readonly limits?: WorkerLimits;
  /** kernels in use, for profile reports, e.g. "native avx512, 2 threads" */
  readonly kernels?: string;
  /** "full": a root must present the same full sha256 (`--verify full`); default "sampled" */
  readonly verify?: VerifyMode;
  /** one line per notable event (refusals, rejected frames, assignments, sessions freed) */
  readonly log: (line: string) => void;
}

/** peers whose HELLO is remembered (which model they asked for); the oldest are forgotten beyond this */
const MAX_GREETED = 64;

export class WorkerNode implements AsyncDisposable {
  private readonly router: zmq.Router;
  private readonly onward: OnwardLinks;
  private readonly limits: WorkerLimits;
  private session?: WorkerSession;
  /** per routing id (hex): the served model its HELLO matched, or null when none did */
  private readonly greeted = new Map<string, ServedModel | null>();
  private counters = { batches: 0, wireBytesSent: 0, messagesSent: 0 };
  /** hop records of profiled batches (FLAG_PROFILE), until a STATS request takes them */
  private profile: HopTiming[] = [];
  private readonly housekeeping: NodeJS.Timeout;
  badFrames = 0;
  private closed = false;

  private constructor(
    private readonly options: WorkerNodeOptions,
    private readonly zap: ZapLease | undefined,
  ) {
    this.limits = options.limits ?? DEFAULT_WORKER_LIMITS;
    this.router = new zmq.Router({ linger: 200, maxMessageSize: this.limits.maxFrameBytes, ...serverSocketOptions(options.security) });
    this.onward = new OnwardLinks(options.security, options.log);
    this.router.events.on("disconnect", () => setTimeout(() => void this.checkRoot(), 20));
    this.router.events.on("handshake:error:protocol", ({ address }) => options.log(`refused a connection from ${address}: it does not speak ${options.security.key ? "CurveZMQ with a key" : "plaintext ZMTP"}`));
    this.housekeeping = setInterval(() => void this.tidy(), Math.max(100, Math.floor(options.security.heartbeatTimeoutMs / 2)));
  }

  /** A worker ready to listen: with a cluster key, the ZAP handler that admits only its holders runs first. */
  static async create(options: WorkerNodeOptions): Promise<WorkerNode> {
    if (options.models.length === 0) throw new AssignmentError("NO_MODEL", "a worker needs at least one model");
    const { key } = options.security;
    const zap = key ? await ZapLease.acquire(key, (address) => options.log(`refused a peer at ${address}: it does not hold the cluster key`)) : undefined;
    return new WorkerNode(options, zap);
  }

  /** Binds `address` (port `*` or 0 picks a free one) and returns the address actually bound. */
  async listen(address: string): Promise<string> {
    // checked first (scheme, port 1–65535, a host of this machine); a failed bind names the address and why
    const { parseListenAddress, bindFailure } = await import("./listenAddress.js");
    const target = await parseListenAddress(address);
    if (target.ipv6) this.router.ipv6 = true;
    try {
      await this.router.bind(target.bind);
    } catch (error) {
      throw bindFailure(address, error);
    }
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
      const root = this.session?.root;
      if (header.type === MessageType.ACTIVATIONS && root && !this.session!.isRoot(peer)) await this.replyError(root, header.requestId, error);
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
        return this.onTruncate(peer, header);
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

  /** Picks the served model with the root's identity; replies with it (or the first, which the root then refuses) and what this worker can give. */
  private async onHello(peer: Uint8Array, header: Header, payload: Uint8Array): Promise<void> {
    const rootIdentity = decodeHello(payload);
    const comparisons = this.options.models.map((served) => compareModels(rootIdentity, served.identity, this.options.verify));
    const match = this.options.models.find((_, k) => comparisons[k].same);
    this.remember(peer, match ?? null);
    if (!match) {
      const why = comparisons.map((c) => `${c.check}: ${c.reason}`).join("; ");
      this.options.log(`refusing a root with a model this worker does not serve (${why}): root has ${describeIdentity(rootIdentity)}; this worker has ${this.options.models.map((m) => describeIdentity(m.identity)).join("; ")}`);
    }
    const served = match ?? this.options.models[0];
    const capacity = await served.capacity?.capacity();
    await this.reply(peer, controlHeader(MessageType.HELLO_REPLY, header.requestId), encodeHelloReply({ identity: served.identity, capacity }));
  }

  private remember(peer: Uint8Array, served: ServedModel | null): void {
    const id = hex(peer);
    this.greeted.delete(id);
    this.greeted.set(id, served);
    if (this.greeted.size > MAX_GREETED) this.greeted.delete(this.greeted.keys().next().value!);
  }

  private async onAssign(peer: Uint8Array, header: Header, payload: Uint8Array): Promise<void> {
    const served = this.greeted.get(hex(peer));
    if (served === undefined) throw new AssignmentError("NO_HELLO", "ASSIGN before HELLO: say which model first");
    if (served === null) throw new AssignmentError("MODEL_MISMATCH", "this worker refused the root: different model file");
    const plan = decodeAssign(payload);
    checkContext(plan.contextSize, this.limits);
    if ((plan.sequences ?? 1) > this.limits.maxSequences) throw new ProtocolError("BAD_VALUE", `${plan.sequences ?? 1} sequences are over this worker's limit of ${this.limits.maxSequences} (--max-sequences)`);
    if (this.session && !this.session.isRoot(peer) && (await this.rootAlive(this.session))) throw busyError();
    await this.endSession();
    this.session = await WorkerSession.open(peer, served, plan, this.options);
    this.counters = { batches: 0, wireBytesSent: 0, messagesSent: 0 };
    const { assignment } = this.session;
    const { host } = assignment;
    this.options.log(
      `session ${plan.session}: assigned ${assignment.describeLayers()} of ${served.model.hparams.nLayer} (worker ${plan.workerIndex + 1} of ${plan.addresses.length}, ` +
        `wire ${PayloadEncoding[plan.encoding].toLowerCase()}, kv ${plan.kvType}, ${host.runner.describe()}, ${host.plan.layersResident} of ${host.layers.length} layers fit)`,
    );
    await this.reply(peer, controlHeader(MessageType.ASSIGN, header.requestId, PayloadEncoding.NONE));
  }

  private async onActivations(header: Header, payload: Uint8Array, receivedAtMs: number): Promise<void> {
    const session = this.session;
    if (!session) throw new AssignmentError("NOT_ASSIGNED", "no layers assigned yet");
    const profiled = (header.flags & FLAG_PROFILE) !== 0;
    const queueMs = performance.now() - receivedAtMs;
    const outcome = await runBatch(session, header, payload, profiled, this.limits);
    this.counters.batches++;
    const handedOffMs = performance.now();
    const counted = outcome.frames.reduce((n, f) => n + f.length, 0);
    if (outcome.to.kind === "worker") this.onward.send(outcome.to.address, outcome.frames);
    else await this.toPeer([session.root, ...outcome.frames]);
    this.counters.messagesSent++;
    this.counters.wireBytesSent += counted;
    // up to the hand-off to the socket: sending counts as network (the root's round trip minus the hops)
    if (profiled && this.profile.length < MAX_PROFILE_HOPS) this.profile.push(hopRecord(session.assignment.plan.workerIndex, header, outcome, queueMs, handedOffMs - receivedAtMs));
  }

  private async onTruncate(peer: Uint8Array, header: Header): Promise<void> {
    const session = this.session;
    if (!session || !session.isRoot(peer)) throw new ProtocolError("BAD_SESSION", "TRUNCATE from a peer that is not this worker's root");
    await session.assignment.host.runner.truncate(header.sequenceId, header.position);
    await this.reply(peer, { ...controlHeader(MessageType.TRUNCATE, header.requestId, PayloadEncoding.NONE), sequenceId: header.sequenceId, position: header.position });
  }

  /** STATS reply: the counters, plus the hop records and machine facts when the request asks (`takeProfile`). */
  private async statsReply(payload: Uint8Array): Promise<WorkerStats> {
    const request = payload.length > 0 ? decodeStatsRequestPayload(payload) : { takeProfile: false, status: false };
    const stats = request.status ? { ...(await this.snapshot()), status: await this.status() } : await this.snapshot();
    if (!request.takeProfile) return stats;
    const profile = this.profile;
    this.profile = [];
    return { ...stats, profile, facts: await this.facts() };
  }

  private async status(): Promise<WorkerStatus> {
    const models = this.options.models.map(({ model, identity }) => ({ file: path.basename(model.path), nLayer: model.hparams.nLayer, fileBytes: identity.fileBytes }));
    const session = this.session;
    const capacity = await (session?.served ?? this.options.models[0]).capacity?.capacity();
    if (!session) return { models, capacity };
    const { host } = session.assignment;
    return { models, capacity, session: { id: session.id, layers: [...host.layers], layersResident: host.plan.layersResident, budgetBytes: host.plan.budgetBytes, sequences: host.runner.sequenceCount } };
  }

  private async facts(): Promise<NodeFacts> {
    const host = this.session?.assignment.host;
    return { ...(await machineFacts()), budgetBytes: host?.plan.budgetBytes ?? 0, layers: [...(host?.layers ?? [])], layersResident: host?.plan.layersResident ?? 0, kernels: this.options.kernels ?? "" };
  }

  /** Whether the session's root is still connected: a probe it ignores, sent with ROUTER_MANDATORY (EHOSTUNREACH when it is gone). */
  private async rootAlive(session: WorkerSession): Promise<boolean> {
    try {
      await this.router.send([session.root, ...encodeMessage(controlHeader(MessageType.PING, 0, PayloadEncoding.NONE))]);
      return true;
    } catch {
      return false;
    }
  }

  /** Frees the session when its root has gone (called on disconnects and periodically). */
  private async checkRoot(): Promise<void> {
    const session = this.session;
    if (this.closed || !session || (await this.rootAlive(session))) return;
    if (this.session !== session) return;
    this.options.log(`session ${session.id}: the root went away; its state is freed`);
    await this.endSession();
  }

  private async tidy(): Promise<void> {
    await this.checkRoot();
    const freed = this.session?.assignment.host.runner.freeIdle(this.limits.idleSequenceMs) ?? 0;
    if (freed > 0) this.options.log(`freed the KV cache of ${freed} sequence${freed === 1 ? "" : "s"} unused for ${this.limits.idleSequenceMs / 1000} s`);
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

  /** Sends to `peer`; a peer that has gone (EHOSTUNREACH) is not an error of this worker. */
  private async reply(peer: Uint8Array, header: Omit<Header, "payloadBytes">, payload?: Uint8Array): Promise<void> {
    await this.toPeer([peer, ...encodeMessage(header, payload)]);
  }

  private async toPeer(frames: Frames): Promise<void> {
    if (this.closed) return;
    try {
      await this.router.send(frames);
    } catch (error) {
      if ((error as { code?: string }).code !== "EHOSTUNREACH") throw error;
    }
  }

  /** Counters since the last ASSIGN (bad frames: since start). */
  async snapshot(): Promise<WorkerStats> {
    const runner = this.session ? await this.session.assignment.host.runner.stats() : NO_RUNNER_STATS;
    const memory = { rssBytes: process.memoryUsage.rss(), peakRssBytes: process.resourceUsage().maxRSS * 1024, budgetBytes: this.session?.assignment.host.plan.budgetBytes ?? 0 };
    return { ...this.counters, badFrames: this.badFrames, ...runner, ...memory };
  }

  private async endSession(): Promise<void> {
    const old = this.session;
    this.session = undefined;
    this.counters = { batches: 0, wireBytesSent: 0, messagesSent: 0 };
    this.onward.closeAll();
    await old?.[Symbol.asyncDispose]();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.housekeeping);
    await this.endSession();
    this.router.close();
    await this.zap?.[Symbol.asyncDispose]();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
