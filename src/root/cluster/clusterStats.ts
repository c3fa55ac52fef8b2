/**
 * What the cluster reports: every worker's counters (STATS), summed with the root's wire and
 * round-trip figures for --stats-json and `model.stats()`, and the workers' profiling records.
 */
import type { RunnerStats } from "../../engine/model/layerRunner.js";
import { encodeControl } from "../../protocol/control.js";
import { decodeWorkerStats, type PipelineStage, type WorkerStats } from "../../protocol/clusterControl.js";
import { controlHeader, MessageType, PayloadEncoding } from "../../protocol/header.js";
import type { Recorder } from "../../telemetry/recorder.js";
import { describeAssignment } from "./assignment.js";
import { ClusterError, type WorkerLinks } from "./workerLinks.js";

/**
 * Summary for --stats-json. `networkSeconds` is the time the root waited for results beyond
 * what the workers report as compute: round-trip time of every forward pass minus the
 * workers' time inside their layer runners (so it holds wire transfer, queueing and the
 * encoding/decoding of activations on every hop).
 */
export interface ClusterStats extends RunnerStats {
  workers: number;
  /** network transfers per forward pass: root → first stage, stage → stage, last stage → root */
  hops: number;
  assign: string;
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
  /** each worker's own counters */
  perWorker: WorkerShare[];
  /** workers lost and recovered from (their layers moved, the sequences replayed) */
  recoveries: number;
  /** seconds spent recovering: re-assigning and replaying */
  recoverySeconds: number;
  /** the longest wait before a loss was noticed (since the last completed pass) */
  maxDetectSeconds: number;
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
  /** the worker's resident memory at the last STATS, its peak and its budget (absent from workers that do not report them) */
  rssBytes?: number;
  peakRssBytes?: number;
  budgetBytes?: number;
}

export interface RootCounters {
  readonly assign: string;
  readonly wire: string;
  readonly rootBytesSent: number;
  readonly tokens: number;
  readonly roundTripSeconds: number;
  readonly recoveries: readonly { readonly seconds: number; readonly detectSeconds: number }[];
}

/** @param members the workers of the current layout (the lost ones no longer count) */
export async function collectClusterStats(links: WorkerLinks, members: readonly number[], stages: readonly PipelineStage[], timeoutMs: number, root: RootCounters): Promise<ClusterStats> {
  const all = await askWorkers(links, members, timeoutMs, undefined);
  const sum = (pick: (x: WorkerStats) => number) => all.reduce((n, x) => n + pick(x), 0);
  const workerComputeSeconds = sum((x) => x.computeSeconds);
  const wireBytesSent = root.rootBytesSent + sum((x) => x.wireBytesSent);
  const layerNames = new Map(describeAssignment(stages, links.addresses).map((line) => [Number(/^worker (\d+)/.exec(line)![1]) - 1, line.replace(/^.*: layers /, "")]));
  return {
    computeSeconds: workerComputeSeconds,
    layerRuns: sum((x) => x.layerRuns),
    cacheHits: sum((x) => x.cacheHits),
    cacheMisses: sum((x) => x.cacheMisses),
    bytesRead: sum((x) => x.bytesRead),
    ioWaitSeconds: sum((x) => x.ioWaitSeconds),
    readBusySeconds: sum((x) => x.readBusySeconds),
    workers: members.length,
    hops: stages.length + 1,
    assign: root.assign,
    wire: root.wire,
    wireBytesSent,
    wireBytesPerToken: root.tokens > 0 ? wireBytesSent / root.tokens : 0,
    roundTripSeconds: root.roundTripSeconds,
    workerComputeSeconds,
    networkSeconds: Math.max(0, root.roundTripSeconds - workerComputeSeconds),
    workerBadFrames: sum((x) => x.badFrames),
    recoveries: root.recoveries.length,
    recoverySeconds: root.recoveries.reduce((n, r) => n + r.seconds, 0),
    maxDetectSeconds: root.recoveries.reduce((n, r) => Math.max(n, r.detectSeconds), 0),
    perWorker: all.map((x, k) => ({
      address: links.addresses[members[k]],
      layers: layerNames.get(members[k]) ?? "",
      batches: x.batches,
      computeSeconds: x.computeSeconds,
      meanHopMs: x.batches > 0 ? (1000 * x.computeSeconds) / x.batches : 0,
      cacheHits: x.cacheHits,
      cacheMisses: x.cacheMisses,
      bytesRead: x.bytesRead,
      wireBytesSent: x.wireBytesSent,
      rssBytes: x.rssBytes,
      peakRssBytes: x.peakRssBytes,
      budgetBytes: x.budgetBytes,
    })),
  };
}

/** Every worker's hop records (kept since the last call) and machine facts, into `recorder`. */
export async function collectWorkerTelemetry(links: WorkerLinks, members: readonly number[], timeoutMs: number, recorder: Recorder): Promise<void> {
  const all = await askWorkers(links, members, timeoutMs, { takeProfile: true });
  all.forEach((stats, k) => {
    const w = members[k];
    if (!stats.facts || !stats.profile) throw new ClusterError("BAD_REPLY", `worker ${links.addresses[w]} sent no profile`);
    for (const hop of stats.profile) recorder.hop(hop);
    recorder.node({ node: w, label: `worker ${w + 1} (${links.addresses[w]})`, ...stats.facts });
  });
}

async function askWorkers(links: WorkerLinks, members: readonly number[], timeoutMs: number, request: { takeProfile: boolean } | undefined): Promise<WorkerStats[]> {
  return Promise.all(
    members.map(async (w) => {
      const address = links.addresses[w];
      const header = controlHeader(MessageType.STATS, links.newRequestId(), request ? PayloadEncoding.MSGPACK : PayloadEncoding.NONE);
      const { reply } = await links.request(w, header, request ? encodeControl(request) : undefined, MessageType.STATS, timeoutMs, `STATS from worker ${address}`);
      try {
        return decodeWorkerStats(reply.payload);
      } catch (error) {
        throw new ClusterError("BAD_REPLY", `worker ${address} sent malformed STATS: ${(error as Error).message}`);
      }
    }),
  );
}
