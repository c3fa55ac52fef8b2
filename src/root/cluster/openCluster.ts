/**
 * What `generate --workers … | --spawn-workers N` adds: local worker processes (optional), the
 * remote runner, and the cluster's part of the --stats-json summary. One owner for all of it,
 * disposed in reverse order (runner first, then the worker processes).
 */
import type { Model } from "../../engine/model/model.js";
import { OptionError } from "../../engine/errors.js";
import { PayloadEncoding } from "../../protocol/header.js";
import type { ActivationEncoding } from "../../protocol/activations.js";
import { computeModelIdentity, withFullSha256, type VerifyMode } from "../../host/modelIdentity.js";
import { openLayerHost } from "../../host/layerHost.js";
import { fixedBytes } from "../../host/memoryPlan.js";
import { defaultClusterKeyPath, generateClusterKey, loadClusterKey, type ClusterKey } from "../../host/clusterKey.js";
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, type LinkSecurity } from "../../host/linkSecurity.js";
import { parseExplicitAssignment, type AssignMode, type ModelFootprint } from "./assignment.js";
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
  /** a placement mode, or an explicit `0-9@host:port,10-21@host:port` (its addresses are the workers) */
  readonly assign: AssignMode | string;
  readonly wire: WireName;
  /** sequences run at once (workers plan KV for this many) */
  readonly sequences?: number;
  /** the cluster key file (default: defaultClusterKeyPath()); spawned workers get a fresh key */
  readonly clusterKey?: string;
  /** plaintext links, no authentication (prints a warning) */
  readonly insecure?: boolean;
  /** a worker that stops answering is lost after this long (default 2 s) */
  readonly heartbeatTimeoutMs?: number;
  /** "full": the root's identity carries its full sha256, and workers must match it */
  readonly verify?: VerifyMode;
  /** when every worker is lost, this process runs the layers with this budget */
  readonly fallbackMemory?: { readonly maxMemoryBytes?: number; readonly prefetch?: number; readonly keepPageCache?: boolean };
}

export class Cluster implements AsyncDisposable {
  private constructor(
    readonly runner: RemoteLayerRunner,
    readonly localWorkers: LocalWorkers | undefined,
  ) {}

  /** undefined when neither --workers, --spawn-workers nor an explicit --assign is given (single-process run) */
  static async open(model: Model, flags: ClusterFlags, log: (line: string) => void): Promise<Cluster | undefined> {
    const explicit = parseExplicitAssignment(flags.assign, model.hparams.nLayer);
    const listed = workerList(flags.workers, explicit);
    if (listed.length === 0 && !flags.spawnWorkers) return undefined;
    if (listed.length > 0 && flags.spawnWorkers) throw new OptionError("BAD_WORKERS", "give either --workers or --spawn-workers, not both");
    if (explicit && flags.spawnWorkers) throw new OptionError("BAD_ASSIGN", "an explicit --assign names its workers; it does not go with --spawn-workers");
    const security = linkSecurity(flags, log);
    const sampled = computeModelIdentity(model.path, model.file.dataOffset, model.hparams.nLayer);
    const identity = flags.verify === "full" ? await withFullSha256(sampled, model.path) : sampled;
    let localWorkers: LocalWorkers | undefined;
    if (flags.spawnWorkers) {
      // workers on this machine share its budget: each gets an equal part of --max-memory
      const budget = flags.fallbackMemory?.maxMemoryBytes;
      const maxMemory = budget === undefined ? undefined : String(Math.floor(budget / flags.spawnWorkers));
      localWorkers = await LocalWorkers.spawn(flags.spawnWorkers, { modelPath: model.path, maxMemory, key: security.key, heartbeatTimeoutMs: security.heartbeatTimeoutMs });
      log(`started ${flags.spawnWorkers} local worker${flags.spawnWorkers === 1 ? "" : "s"} (pids ${localWorkers.pids.join(", ")})`);
    }
    try {
      const runner = await RemoteLayerRunner.connect({
        addresses: localWorkers?.addresses ?? listed,
        assign: explicit ?? (flags.assign as AssignMode),
        encoding: WIRE[flags.wire],
        identity,
        nEmbd: model.hparams.nEmbd,
        kvType: model.kvType,
        flashKvChunks: model.flashKvChunks,
        contextSize: model.contextSize,
        sequences: flags.sequences,
        security,
        footprint: footprintOf(model, flags.sequences ?? 1),
        embed: (tokens, out) => model.embed(tokens, out),
        verify: flags.verify,
        fallback: async () => (await openLayerHost(model, { layers: model.layers.map((_, il) => il), holdsHead: false, sequences: flags.sequences, ...flags.fallbackMemory })).runner,
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

/** The worker addresses: --workers, else those an explicit --assign names (in order of first use). */
function workerList(workers: string | undefined, explicit: ReturnType<typeof parseExplicitAssignment>): string[] {
  const listed = workers?.split(",").map((a) => a.trim()).filter((a) => a.length > 0) ?? [];
  const bad = listed.find((a) => !/^(tcp|ipc):\/\/\S+$/.test(a));
  if (bad) throw new OptionError("BAD_WORKERS", `worker address "${bad}" is not a ZeroMQ endpoint such as tcp://host:port`);
  if (!explicit) return listed;
  const named = [...new Set(explicit.map((r) => r.address))];
  if (listed.length > 0 && (listed.length !== named.length || !named.every((a) => listed.includes(a)))) {
    throw new OptionError("BAD_ASSIGN", `--assign names the workers ${named.join(",")}, but --workers lists ${listed.join(",")}`);
  }
  return named;
}

/**
 * The links' security: the cluster key (from its file; a fresh one for workers this process
 * starts itself), or plaintext with --insecure, which says so every time.
 */
export function linkSecurity(flags: Pick<ClusterFlags, "insecure" | "clusterKey" | "heartbeatTimeoutMs" | "spawnWorkers">, log: (line: string) => void): LinkSecurity {
  const heartbeatTimeoutMs = flags.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  if (flags.insecure) {
    log("warning: --insecure: cluster links are plaintext and unauthenticated; anyone who reaches a worker can use it and read the activations");
    return { key: undefined, heartbeatTimeoutMs };
  }
  let key: ClusterKey;
  if (flags.spawnWorkers && flags.clusterKey === undefined) key = generateClusterKey();
  else key = loadClusterKey(flags.clusterKey ?? defaultClusterKeyPath());
  return { key, heartbeatTimeoutMs };
}

/** What `auto` placement needs to know of the model. */
function footprintOf(model: Model, sequences: number): ModelFootprint {
  const { nHeadKv, headDim } = model.hparams;
  const kvElementBytes = model.kvType === "f16" ? 2 : 4;
  const scratchBytes = fixedBytes({ hparams: model.hparams, kvType: model.kvType, layers: [], headBytes: 0, kvPositions: 0, batchTokens: Math.min(model.contextSize, 512) });
  return { layerBytes: model.layers.map((l) => l.nBytes), kvBytesPerLayer: 2 * model.contextSize * sequences * nHeadKv * headDim * kvElementBytes, scratchBytes };
}
