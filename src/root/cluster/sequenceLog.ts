/**
 * What the cluster runner needs to rebuild every sequence's KV cache on a new pipeline after a
 * worker is lost: each forward pass that ran, as it ran (the same sequences together, the same
 * chunks: the result is bit-identical for any weight type only then). A pass is kept as its
 * tokens when the caller gave them (re-embedded at replay: 4 bytes a token), else as a copy of
 * its input rows. Truncation and release cut the log as they cut the caches.
 */
import type { SequenceBatch } from "../../engine/model/layerRunner.js";

interface LoggedBatch {
  readonly sequenceId: number;
  readonly position: number;
  readonly nTokens: number;
  readonly tokens?: readonly number[];
  /** f32 [nTokens, nEmbd], when there are no tokens */
  readonly hidden?: Float32Array;
}

/** Turns tokens into the hidden states entering layer 0 (the root's embedding table). */
export type Embed = (tokens: readonly number[], out: Float32Array) => void;

export class SequenceLog {
  private passes: LoggedBatch[][] = [];

  constructor(
    private readonly nEmbd: number,
    private readonly embed?: Embed,
  ) {}

  /** Keeps a pass that ran through every layer (call after it succeeded). */
  record(batches: readonly SequenceBatch[]): void {
    this.passes.push(
      batches.map(({ sequenceId, position, nTokens, tokens, hidden }) =>
        tokens && this.embed ? { sequenceId, position, nTokens, tokens: [...tokens] } : { sequenceId, position, nTokens, hidden: hidden.slice(0, nTokens * this.nEmbd) },
      ),
    );
  }

  /** Forgets a sequence's rows from `position` on (0: the whole sequence). */
  truncate(sequenceId: number, position: number): void {
    this.passes = this.passes
      .map((pass) => pass.flatMap((b) => (b.sequenceId !== sequenceId || b.position + b.nTokens <= position ? [b] : b.position >= position ? [] : [cut(b, position - b.position, this.nEmbd)])))
      .filter((pass) => pass.length > 0);
  }

  /** Rows (tokens) kept, over all sequences. */
  get nTokens(): number {
    return this.passes.reduce((n, pass) => n + pass.reduce((m, b) => m + b.nTokens, 0), 0);
  }

  get nSequences(): number {
    return new Set(this.passes.flatMap((pass) => pass.map((b) => b.sequenceId))).size;
  }

  get nPasses(): number {
    return this.passes.length;
  }

  /** The passes again, in order, as fresh batches (a runner may overwrite its input). */
  *replay(): Generator<SequenceBatch[]> {
    for (const pass of this.passes) {
      yield pass.map((b) => {
        const hidden = b.hidden ? b.hidden.slice() : new Float32Array(b.nTokens * this.nEmbd);
        if (b.tokens) this.embed!(b.tokens, hidden);
        return { sequenceId: b.sequenceId, position: b.position, nTokens: b.nTokens, hidden, tokens: b.tokens };
      });
    }
  }
}

function cut(batch: LoggedBatch, nTokens: number, nEmbd: number): LoggedBatch {
  return { ...batch, nTokens, tokens: batch.tokens?.slice(0, nTokens), hidden: batch.hidden?.subarray(0, nTokens * nEmbd) };
}
