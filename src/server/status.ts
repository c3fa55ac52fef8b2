/** What the dashboard shows, as one JSON object (GET /dashboard/status). */
import type { ModelStats } from "../index.js";
import type { ServerContext } from "./context.js";

export interface NodeStatus {
  readonly name: string;
  readonly address: string | null;
  /** e.g. "0-21", "0, 2, 4", or "" for a root that runs none */
  readonly layers: string;
  readonly role: string;
  readonly batches?: number;
  readonly meanHopMs?: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly bytesRead: number;
  /** the node's resident memory now, its peak and its budget (a worker's as of its last STATS) */
  readonly rssBytes?: number;
  readonly peakRssBytes?: number;
  readonly budgetBytes?: number;
}

export async function serverStatus(ctx: ServerContext): Promise<Record<string, unknown>> {
  const { slot, calls, metrics, settings } = ctx;
  const model = slot.loaded;
  const base = {
    state: slot.state,
    loadProgress: slot.state === "loading" ? (slot.progress ?? null) : null,
    settings: { parallel: settings.parallel, maxQueue: settings.maxQueue ?? null },
    inFlight: calls.size,
    tokensPerSecond: metrics.liveRate.perSecond(),
  };
  if (!model) return base;
  const stats = await ctx.stats.get(model);
  const { info } = model;
  return {
    ...base,
    model: { name: info.name, architecture: info.architecture, quantization: info.quantization, layers: info.layers, contextSize: info.contextSize, parameters: info.parameters, fileBytes: info.fileBytes, runner: info.runner },
    load: model.load,
    totals: stats && { completions: stats.completions, promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens, generatedTokensPerSecond: stats.generatedTokensPerSecond },
    cache: stats && { hits: stats.cacheHits, misses: stats.cacheMisses, hitRate: hitRate(stats.cacheHits, stats.cacheMisses), bytesRead: stats.bytesRead },
    kernels: stats?.kernels ?? null,
    nodes: stats ? nodesOf(stats, info.layers) : [],
  };
}

function nodesOf(stats: ModelStats, nLayers: number): NodeStatus[] {
  const cluster = stats.cluster;
  const root: NodeStatus = {
    name: "root (this process)",
    address: null,
    layers: cluster ? "" : nLayers > 1 ? `0-${nLayers - 1}` : "0",
    role: cluster ? "embeddings, output head, sampling" : "every layer",
    cacheHits: cluster ? 0 : stats.cacheHits,
    cacheMisses: cluster ? 0 : stats.cacheMisses,
    bytesRead: cluster ? 0 : stats.bytesRead,
    rssBytes: process.memoryUsage.rss(),
    peakRssBytes: stats.peakRssBytes,
    budgetBytes: stats.budgetBytes,
  };
  const workers = (cluster?.perWorker ?? []).map(
    (w, i): NodeStatus => ({
      name: `worker ${i + 1}`,
      address: w.address,
      layers: w.layers,
      role: "layers",
      batches: w.batches,
      meanHopMs: w.meanHopMs,
      cacheHits: w.cacheHits,
      cacheMisses: w.cacheMisses,
      bytesRead: w.bytesRead,
      rssBytes: w.rssBytes,
      peakRssBytes: w.peakRssBytes,
      budgetBytes: w.budgetBytes,
    }),
  );
  return [root, ...workers];
}

function hitRate(hits: number, misses: number): number | null {
  return hits + misses > 0 ? hits / (hits + misses) : null;
}
