/** `model.stats()`: what a loaded model has done since it was loaded. */
import type { ClusterStats } from "../root/cluster/remoteLayerRunner.js";
import { LocalLayerRunner } from "../engine/model/localLayerRunner.js";
import type { ModelCore } from "./modelCore.js";

/** Completions' counts, kept by the model. */
export interface UsageTotals {
  completions: number;
  promptTokens: number;
  generatedTokens: number;
  promptSeconds: number;
  generateSeconds: number;
}

export interface ModelStats extends UsageTotals {
  /** prompt tokens per second over all completions */
  readonly promptTokensPerSecond: number;
  /** generated tokens per second over all completions */
  readonly generatedTokensPerSecond: number;
  readonly loadSeconds: number;
  /** the process's peak resident memory */
  readonly peakRssBytes: number;
  /** e.g. "native avx512, 2 threads" */
  readonly kernels: string;
  readonly threads: number;
  readonly runner: string;
  /** the memory budget this process plans with */
  readonly budgetBytes: number;
  /** a layer was resident when needed (every layer run is a hit when all stay resident) */
  readonly cacheHits: number;
  /** a layer was read from disk (on demand or ahead): bytesRead is the sum of their sizes */
  readonly cacheMisses: number;
  readonly bytesRead: number;
  /** compute waiting for reads */
  readonly ioWaitSeconds: number;
  /** time at least one read was in flight */
  readonly readBusySeconds: number;
  /** time inside the layers (this process's, or the workers' summed) */
  readonly computeSeconds: number;
  /** with workers: the cluster's counters, each worker's included */
  readonly cluster?: ClusterStats;
}

export async function collectStats(core: ModelCore, totals: UsageTotals): Promise<ModelStats> {
  const cluster = await core.cluster?.stats();
  return {
    ...totals,
    promptTokensPerSecond: rate(totals.promptTokens, totals.promptSeconds),
    generatedTokensPerSecond: rate(totals.generatedTokens, totals.generateSeconds),
    loadSeconds: core.loadSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    kernels: core.kernels,
    threads: core.threads,
    runner: core.runner.describe(),
    budgetBytes: core.plan.budgetBytes,
    ...cacheCounters(core, cluster),
    computeSeconds: cluster ? cluster.workerComputeSeconds : core.runner instanceof LocalLayerRunner ? core.runner.computeSeconds : 0,
    ...(cluster ? { cluster } : {}),
  };
}

function cacheCounters(core: ModelCore, cluster: ClusterStats | undefined) {
  if (cluster) return { cacheHits: cluster.cacheHits, cacheMisses: cluster.cacheMisses, bytesRead: cluster.bytesRead, ioWaitSeconds: 0, readBusySeconds: 0 };
  if (core.streaming) {
    const { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds } = core.streaming.snapshot();
    return { cacheHits, cacheMisses, bytesRead, ioWaitSeconds, readBusySeconds };
  }
  const layerRuns = core.runner instanceof LocalLayerRunner ? core.runner.layerRuns : 0;
  return { cacheHits: layerRuns, cacheMisses: 0, bytesRead: 0, ioWaitSeconds: 0, readBusySeconds: 0 };
}

function rate(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}
