/**
 * The one interface through which layers run: "run layers [from, to) over these sequences'
 * activations". This process's LocalLayerRunner and the cluster's RemoteLayerRunner implement
 * it alike: any range, any number of sequences in one call (each layer applied to all of them
 * before the next, so one read of a streamed layer serves them all), and back comes what the
 * caller asked for. Nothing needs to know which kind of runner it holds.
 */
import type { Recorder } from "../../telemetry/recorder.js";
import type { RunnerStats } from "../../telemetry/records.js";

export type { RunnerStats };

/** One sequence's tokens entering a range of layers. */
export interface SequenceBatch {
  /** which sequence's KV cache the batch extends */
  readonly sequenceId: number;
  /** position of the first token of the batch */
  readonly position: number;
  readonly nTokens: number;
  /** f32 [nTokens, nEmbd]: hidden states entering layer `from` (a runner may overwrite it) */
  readonly hidden: Float32Array;
  /**
   * the tokens whose embeddings `hidden` holds, when the batch enters layer 0: lets a runner
   * rebuild the batch later (a cluster replays it after losing a worker)
   */
  readonly tokens?: readonly number[];
}

/** Layers [from, to). */
export interface LayerRange {
  readonly from: number;
  readonly to: number;
}

/**
 * What comes back per sequence: "last", its last row only, f32 [nEmbd] (all a next-token
 * prediction needs; when the range ends at the model's last layer only that row's feed-forward
 * is computed, as llama.cpp does); "all", every row, f32 [nTokens, nEmbd] (for a range that
 * another runner continues).
 */
export type OutputRows = "last" | "all";

export interface RunOptions {
  /** default "last" */
  readonly rows?: OutputRows;
  /** timing goes here when it is enabled (profiling); default: nothing is timed */
  readonly recorder?: Recorder;
}

export interface LayerRunner extends AsyncDisposable {
  /**
   * Runs layers [range.from, range.to) over every batch and returns, per batch in order, the
   * rows asked for (see OutputRows). Batches must have distinct sequence ids.
   */
  run(batches: readonly SequenceBatch[], range: LayerRange, options?: RunOptions): Promise<Float32Array[]>;
  /** Forgets a sequence's cached keys and values from `position` on (0: the whole sequence). */
  truncate(sequenceId: number, position: number): Promise<void>;
  stats(): Promise<RunnerStats>;
  /**
   * Hands over what other nodes timed for calls made with an enabled recorder (workers keep
   * their records until asked) and describes those nodes; a local runner has nothing to add.
   */
  collectTelemetry(recorder: Recorder): Promise<void>;
  /** A short description for the run summary, e.g. "local, all layers resident (mmap)". */
  describe(): string;
  /**
   * Calls worth keeping in flight at once (each with its own sequences): a pipeline of N stages
   * is full with N. Absent: 1 — calls run one after another.
   */
  readonly concurrency?: number;
}

/** Counters that are all zero. */
export const NO_RUNNER_STATS: RunnerStats = Object.freeze({ computeSeconds: 0, layerRuns: 0, cacheHits: 0, cacheMisses: 0, bytesRead: 0, ioWaitSeconds: 0, readBusySeconds: 0 });

/** The rows a caller asked for (see OutputRows): views of the batch's hidden states. */
export function outputRows(batch: SequenceBatch, nEmbd: number, rows: OutputRows): Float32Array {
  const end = batch.nTokens * nEmbd;
  return batch.hidden.subarray(rows === "all" ? 0 : end - nEmbd, end);
}
