/**
 * What `generate --workers … | --spawn-workers N` adds: local worker processes (optional), the
 * remote runner, and the cluster's part of the --stats-json summary. One owner for all of it,
 * disposed in reverse order (runner first, then the worker processes).
 */
import type { Model } from "../../engine/model/model.js";
import { OptionError } from "../../engine/errors.js";
import { PayloadEncoding } from "../../protocol/header.js";
import type { ActivationEncoding } from "../../protocol/activations.js";
import { computeModelIdentity } from "../../host/modelIdentity.js";
import type { AssignMode } from "./assignment.js";
import { LocalWorkers } from "./localWorkers.js";
import { RemoteLayerRunner } from "./remoteLayerRunner.js";
import type { ClusterStats } from "./clusterStats.js";

/** Activation encodings between nodes: q8_0 (34 bytes per 32 values), f16, f32 (exact). */
export const WIRE_ENCODINGS = ["q8_0", "f16", "f32"] as const;
/** One of WIRE_ENCODINGS. */
export type WireName = (typeof WIRE_ENCODINGS)[number];
const WIRE: Record<WireName, ActivationEncoding> = { q8_0: PayloadEncoding.Q8_0, f16: PayloadEncoding.F16, f32: PayloadEncoding.F32 };

export interface ClusterFlags {
  /** comma-separated worker addresses, e.g. tcp://10.0.0.2:5555,tcp://10.0.0.3:5555 */
  readonly workers?: string;
  readonly spawnWorkers?: number;
  readonly assign: AssignMode;
  readonly wire: WireName;
  /** sequences run at once (workers plan KV for this many) */
  readonly sequences?: number;
}

export class Cluster implements AsyncDisposable {
  private constructor(
    readonly runner: RemoteLayerRunner,
    readonly localWorkers: LocalWorkers | undefined,
  ) {}

  /** undefined when neither --workers nor --spawn-workers is given (single-process run) */
  static async open(model: Model, flags: ClusterFlags, log: (line: string) => void): Promise<Cluster | undefined> {
    const listed = flags.workers?.split(",").map((a) => a.trim()).filter((a) => a.length > 0) ?? [];
    if (listed.length === 0 && !flags.spawnWorkers) return undefined;
    if (listed.length > 0 && flags.spawnWorkers) throw new OptionError("BAD_WORKERS", "give either --workers or --spawn-workers, not both");
    const bad = listed.find((a) => !/^(tcp|ipc|inproc):\/\/\S+$/.test(a));
    if (bad) throw new OptionError("BAD_WORKERS", `worker address "${bad}" is not a ZeroMQ endpoint such as tcp://host:port`);

    const identity = computeModelIdentity(model.path, model.file.dataOffset, model.hparams.nLayer);
    let localWorkers: LocalWorkers | undefined;
    if (flags.spawnWorkers) {
      localWorkers = await LocalWorkers.spawn(flags.spawnWorkers, { modelPath: model.path });
      log(`started ${flags.spawnWorkers} local worker${flags.spawnWorkers === 1 ? "" : "s"} (pids ${localWorkers.pids.join(", ")})`);
    }
    try {
      const runner = await RemoteLayerRunner.connect({
        addresses: localWorkers?.addresses ?? listed,
        assign: flags.assign,
        encoding: WIRE[flags.wire],
        identity,
        nEmbd: model.hparams.nEmbd,
        kvType: model.kvType,
        contextSize: model.contextSize,
        sequences: flags.sequences,
        log,
      });
      return new Cluster(runner, localWorkers);
    } catch (error) {
      await localWorkers?.[Symbol.asyncDispose]();
      throw error;
    }
  }

  stats(): Promise<ClusterStats> {
    return this.runner.clusterStats();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.runner[Symbol.asyncDispose]();
    } finally {
      await this.localWorkers?.[Symbol.asyncDispose]();
    }
  }
}
