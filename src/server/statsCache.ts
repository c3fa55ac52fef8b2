/**
 * `model.stats()` for scrapes and the dashboard: at most one call at a time, a result reused for
 * `maxAgeMs`, and the previous result when a fresh one is slow (with workers, stats are a round
 * trip to each), so /metrics never waits on a busy cluster.
 */
import type { LoadedModel, ModelStats } from "../index.js";

export class StatsCache {
  private last?: { stats: ModelStats; at: number };
  private pending?: Promise<ModelStats | undefined>;

  constructor(
    private readonly maxAgeMs = 500,
    private readonly waitMs = 1000,
  ) {}

  async get(model: LoadedModel): Promise<ModelStats | undefined> {
    if (this.last && performance.now() - this.last.at < this.maxAgeMs) return this.last.stats;
    this.pending ??= model
      .stats()
      .then(
        (stats) => {
          this.last = { stats, at: performance.now() };
          return stats;
        },
        () => this.last?.stats,
      )
      .finally(() => (this.pending = undefined));
    if (!this.last) return this.pending;
    let timer: NodeJS.Timeout | undefined;
    const stale = new Promise<ModelStats>((resolve) => (timer = setTimeout(() => resolve(this.last!.stats), this.waitMs)));
    try {
      return await Promise.race([this.pending, stale]);
    } finally {
      clearTimeout(timer);
    }
  }
}
