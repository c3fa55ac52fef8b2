/** `model.stats()`: what a loaded model has done since it was loaded. */
import type { ClusterStats } from "../root/cluster/clusterStats.js";
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
  const runner = cluster ?? (await core.runner.stats());
  return {
    ...totals,
    promptTokensPerSecond: rate(totals.promptTokens, totals.promptSeconds),
    generatedTokensPerSecond: rate(totals.generatedTokens, totals.generateSeconds),
    loadSeconds: core.loadSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    kernels: core.kernels,
    threads: core.threads,
    runner: core.runner.describe(),
    budgetBytes: core.host.plan.budgetBytes,
    cacheHits: runner.cacheHits,
    cacheMisses: runner.cacheMisses,
    bytesRead: runner.bytesRead,
    ioWaitSeconds: runner.ioWaitSeconds,
    readBusySeconds: runner.readBusySeconds,
    computeSeconds: runner.computeSeconds,
    ...(cluster ? { cluster } : {}),
  };
}

function rate(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}
