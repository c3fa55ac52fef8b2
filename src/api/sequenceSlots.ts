/**
 * Sequence ids and the prompt cache. A finished call's sequence keeps its KV cache (on this
 * process or on the workers) with the tokens it holds, so a later prompt that starts with the
 * same tokens — the next turn of a chat, the same system prompt, a retry — reuses them and
 * evaluates only the rest (llama-server's `cache_prompt`). Running and cached sequences together
 * never exceed `capacity` (the `parallel` KV caches the memory plan made room for): the least
 * recently used cached sequence is dropped first, and any after `ttlMs` unused.
 */
import type { LayerRunner } from "../engine/model/layerRunner.js";
import { SequenceIds } from "./sequenceIds.js";

interface Cached {
  readonly tokens: readonly number[];
  readonly keptAtMs: number;
}

export interface SequenceLease {
  readonly sequenceId: number;
  /** tokens already in the sequence's KV cache: the start of the prompt (empty for a fresh sequence) */
  readonly reused: readonly number[];
}

/** a worker frees a sequence idle for 10 min by default: cached ones are dropped well before */
export const DEFAULT_PROMPT_CACHE_TTL_MS = 5 * 60_000;

export class SequenceSlots {
  private readonly ids = new SequenceIds();
  private readonly inUse = new Set<number>();
  /** by sequence id, least recently kept first */
  private readonly cached = new Map<number, Cached>();

  constructor(
    private readonly runner: LayerRunner,
    /** KV caches that may exist at once (running + cached); 0 turns the cache off */
    private readonly capacity: number,
    private readonly ttlMs = DEFAULT_PROMPT_CACHE_TTL_MS,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Sequences kept for reuse now. */
  get cachedCount(): number {
    return this.cached.size;
  }

  /**
   * A sequence for `prompt`: the cached one sharing the longest start with it (cut back to that
   * start; at least one prompt token is always left to evaluate), else a fresh id — dropping
   * cached sequences so that `inFlight` calls, this one and the cache fit `capacity`.
   */
  async acquire(prompt: readonly number[], inFlight: number): Promise<SequenceLease> {
    await this.expire();
    const best = this.longestPrefix(prompt);
    if (best) {
      this.cached.delete(best.sequenceId);
      this.inUse.add(best.sequenceId);
      await this.runner.truncate(best.sequenceId, best.length);
      return { sequenceId: best.sequenceId, reused: prompt.slice(0, best.length) };
    }
    while (this.cached.size > 0 && inFlight + 1 + this.cached.size > this.capacity) await this.drop(this.cached.keys().next().value!);
    const sequenceId = this.ids.take();
    this.inUse.add(sequenceId);
    return { sequenceId, reused: [] };
  }

  /** A call is over: its sequence is kept with `history` (its tokens) for reuse, or forgotten when `history` is undefined. Safe to call twice. */
  async release(sequenceId: number, history: readonly number[] | undefined): Promise<void> {
    if (!this.inUse.delete(sequenceId)) return;
    if (history !== undefined && history.length > 0 && this.capacity > 0) {
      this.cached.set(sequenceId, { tokens: [...history], keptAtMs: this.nowMs() });
      return;
    }
    try {
      await this.runner.truncate(sequenceId, 0);
    } finally {
      this.ids.release(sequenceId);
    }
  }

  private longestPrefix(prompt: readonly number[]): { sequenceId: number; length: number } | undefined {
    let best: { sequenceId: number; length: number } | undefined;
    for (const [sequenceId, { tokens }] of this.cached) {
      let n = 0;
      const limit = Math.min(tokens.length, prompt.length - 1);
      while (n < limit && tokens[n] === prompt[n]) n++;
      if (n > 0 && (!best || n > best.length)) best = { sequenceId, length: n };
    }
    return best;
  }

  private async expire(): Promise<void> {
    const now = this.nowMs();
    for (const [sequenceId, { keptAtMs }] of [...this.cached]) if (now - keptAtMs > this.ttlMs) await this.drop(sequenceId);
  }

  private async drop(sequenceId: number): Promise<void> {
    this.cached.delete(sequenceId);
    try {
      await this.runner.truncate(sequenceId, 0);
    } finally {
      this.ids.release(sequenceId);
    }
  }

  /** Forgets every cached sequence (before the runner closes). */
  async clear(): Promise<void> {
    for (const sequenceId of [...this.cached.keys()]) await this.drop(sequenceId);
  }
}
