/**
 * The cluster's current pipeline, as the root sees it: which workers answered HELLO with the
 * root's model (and what each can give), the session number, and the stages of the last ASSIGN.
 * `assign(members)` places the layers over the given workers and assigns them under a fresh
 * session, so batches of an earlier layout can never touch the new one's KV caches.
 */
import { randomBytes } from "node:crypto";
import { encodeControl, type ModelIdentity } from "../../protocol/control.js";
import { decodeHelloReply, type AssignPayload, type PipelineStage, type WorkerCapacity } from "../../protocol/clusterControl.js";
import type { ActivationEncoding } from "../../protocol/activations.js";
import { controlHeader, MessageType, PayloadEncoding } from "../../protocol/header.js";
import { compareModels, describeIdentity, type VerifyMode } from "../../host/modelIdentity.js";
import { describeAssignment, explicitStages, placeLayers, type AssignMode, type ExplicitRange, type ModelFootprint } from "./assignment.js";
import { ClusterError, type WorkerLinks } from "./workerLinks.js";

/**
 * How long an ASSIGN may take: the worker maps its layers and fills its cache before it answers
 * (minutes for tens of GB on a slow disk). A dead or stalled worker still fails it at once: its
 * heartbeats stop, the link is lost and every request to it ends (workerLinks.ts).
 */
const ASSIGN_TIMEOUT_MS = 10 * 60_000;

export interface PipelineOptions {
  /** the root's model: workers must have the same identity */
  readonly identity: ModelIdentity;
  /** a placement mode, or explicit ranges (used as given while all their workers live) */
  readonly assign: AssignMode | readonly ExplicitRange[];
  readonly footprint?: ModelFootprint;
  readonly encoding: ActivationEncoding;
  readonly kvType: string;
  /** flash attention's split-KV chunk count (llama.cpp's -fa numerics); absent: classic attention */
  readonly flashKvChunks?: number;
  readonly contextSize: number;
  /** sequences run at once (workers plan KV for this many) */
  readonly sequences: number;
  readonly controlTimeoutMs: number;
  /** how long to keep asking a worker that answers BUSY (a root that just left may still hold it) */
  readonly busyWaitMs: number;
  readonly log: (line: string) => void;
  /** a fresh u32 session number (default: random) */
  readonly newSession?: () => number;
  /** "full": workers must have the file's full sha256, and it must match (default "sampled") */
  readonly verify?: VerifyMode;
}

export class Pipeline {
  session = 0;
  stages: readonly PipelineStage[] = [];
  /** workers in the current stages' layout (those that were assigned) */
  members: readonly number[] = [];
  /** workers whose last HELLO showed the root's model */
  readonly greeted = new Set<number>();
  /** what each worker reported at its last HELLO */
  readonly capacities: (WorkerCapacity | undefined)[] = [];

  constructor(
    private readonly links: WorkerLinks,
    private readonly options: PipelineOptions,
  ) {}

  /** HELLO to worker `w`: checks it has the root's model and keeps what it can give. */
  async hello(w: number): Promise<void> {
    const { identity, controlTimeoutMs } = this.options;
    const address = this.links.addresses[w];
    this.greeted.delete(w);
    const { reply } = await this.links.request(w, controlHeader(MessageType.HELLO, this.links.newRequestId()), encodeControl(identity), MessageType.HELLO_REPLY, controlTimeoutMs, `HELLO to worker ${address}`);
    let theirs;
    try {
      theirs = decodeHelloReply(reply.payload);
    } catch (error) {
      throw new ClusterError("BAD_REPLY", `worker ${address} sent a malformed HELLO reply: ${(error as Error).message}`);
    }
    const comparison = compareModels(identity, theirs.identity, this.options.verify);
    if (!comparison.same) {
      throw new ClusterError("MODEL_MISMATCH", `worker ${address} has a different model file (${comparison.check}: ${comparison.reason}): worker: ${describeIdentity(theirs.identity)}; root: ${describeIdentity(identity)}`);
    }
    this.capacities[w] = theirs.capacity;
    this.greeted.add(w);
  }

  /** Places the layers over `members` (in order), assigns each of them under a new session, and logs the layout. */
  async assign(members: readonly number[], why: string): Promise<void> {
    const stages = this.place(members);
    const session = this.options.newSession?.() ?? randomBytes(4).readUInt32LE(0);
    const { encoding, kvType, flashKvChunks, contextSize, sequences, log } = this.options;
    const addresses = this.links.addresses;
    log(`${why} (session ${session}, ${this.describeMode(members)}, wire ${PayloadEncoding[encoding].toLowerCase()}, ${stages.length} stages):`);
    for (const line of describeAssignment(stages, addresses)) log(`  ${line}`);
    const assigned = members.filter((w) => stages.some((s) => s.worker === w));
    await Promise.all(assigned.map((w) => this.assignOne(w, { session, workerIndex: w, addresses, stages, encoding, kvType, flashKvChunks, contextSize, sequences })));
    this.session = session;
    this.stages = stages;
    this.members = assigned;
  }

  /**
   * ASSIGN to one worker. A worker still serving a root that just went away answers BUSY until
   * it notices (within its heartbeat timeout): asked again until then.
   */
  private async assignOne(w: number, plan: AssignPayload): Promise<void> {
    const deadline = performance.now() + this.options.busyWaitMs;
    for (;;) {
      try {
        const timeoutMs = Math.max(this.options.controlTimeoutMs, ASSIGN_TIMEOUT_MS);
        await this.links.request(w, controlHeader(MessageType.ASSIGN, this.links.newRequestId()), encodeControl(plan), MessageType.ASSIGN, timeoutMs, `ASSIGN to worker ${plan.addresses[w]}`);
        return;
      } catch (error) {
        if (!(error instanceof ClusterError && error.code === "BUSY") || performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private place(members: readonly number[]): PipelineStage[] {
    const { assign, identity, footprint } = this.options;
    if (typeof assign !== "string") {
      const addresses = this.links.addresses;
      const all = assign.every((r) => members.includes(addresses.indexOf(r.address)));
      if (all) return explicitStages(assign, addresses);
    }
    const mode = typeof assign === "string" ? assign : "auto";
    return placeLayers(identity.nLayer, members.map((index) => ({ index, capacity: this.capacities[index] })), mode, footprint);
  }

  private describeMode(members: readonly number[]): string {
    const { assign } = this.options;
    if (typeof assign === "string") return assign;
    return assign.every((r) => members.includes(this.links.addresses.indexOf(r.address))) ? "explicit" : "auto (the explicit layout lost a worker)";
  }

  /** The stage holding layer `layer`. */
  stageOf(layer: number): PipelineStage | undefined {
    return this.stages.find((s) => s.layerFrom <= layer && layer < s.layerTo);
  }

  /** e.g. "round-robin", "explicit" */
  get mode(): string {
    return typeof this.options.assign === "string" ? this.options.assign : "explicit";
  }
}
