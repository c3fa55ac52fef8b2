/**
 * The document a profiled generation produces (`npm run profile -- --json` prints it; the
 * table and the HTML report are drawn from it). Milliseconds throughout.
 */
import type { HopTiming } from "../telemetry/records.js";
import type { LabelledNodeFacts } from "../telemetry/recorder.js";

/** One node of the run: its machine and share of the model, labelled. */
export type ProfileNode = LabelledNodeFacts;

/** Root-side work for one forward pass. */
export interface RootOpsMs {
  readonly embedding: number;
  readonly outputHead: number;
  readonly sampling: number;
}

/** One forward pass: the prompt (or one prompt chunk) or one generated token. */
export interface PassProfile {
  /** 0-based pass index */
  readonly index: number;
  readonly phase: "prompt" | "decode";
  readonly nTokens: number;
  /** when the pass began, from the start of generation (root clock) */
  readonly startAtMs: number;
  /** wall time of the whole pass at the root */
  readonly wallMs: number;
  readonly root: RootOpsMs;
  /** every hop of the pass, in pipeline order (one local hop when there are no workers) */
  readonly hops: readonly HopTiming[];
  /**
   * time on the wire and in sockets: the root's round trip minus every hop's totalMs
   * (0 for a local run); hop i's share is spread evenly over the pass's network transfers
   */
  readonly networkMs: number;
  /** activation bytes sent over the network for this pass (root and workers) */
  readonly wireBytes: number;
}

export interface ProfileRun {
  readonly version: 1;
  /** the generate flags, as given */
  readonly argv: readonly string[];
  readonly model: { readonly path: string; readonly fileBytes: number; readonly nLayer: number; readonly layerBytes: readonly number[] };
  readonly nodes: readonly ProfileNode[];
  readonly passes: readonly PassProfile[];
  /** totals the engine and cluster reported independently (for cross-checks) */
  readonly reported: {
    readonly cacheHits: number;
    readonly cacheMisses: number;
    readonly bytesRead: number;
    readonly wireBytesSent: number;
    readonly wallSeconds: number;
  };
  /** measured cost of collecting timings: profiled vs unprofiled time per token, when measured */
  readonly overheadFraction?: number;
}
