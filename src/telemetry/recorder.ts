/**
 * The telemetry port: where the engine, the worker and the cluster client report what they
 * timed. Callers check `enabled` first and make no clock calls when it is false, so an
 * unprofiled run pays nothing; NULL_RECORDER is that recorder. The profiler (src/profile)
 * implements it for the root; a worker captures each batch's hop with a HopCapture.
 */
import type { HopTiming, NodeFacts, PassStamps } from "./records.js";

/** A node of a run as a profile names it. */
export interface LabelledNodeFacts extends NodeFacts {
  /** −1: the root; otherwise the worker's index in the pipeline */
  readonly node: number;
  /** "root", or "worker 1 (tcp://10.0.0.2:5555)" */
  readonly label: string;
}

export interface Recorder {
  readonly enabled: boolean;
  /** one node's work on one batch: a local runner's call (node −1), or a worker's hop */
  hop(hop: HopTiming): void;
  /** the root sent a forward pass into the pipeline as request `requestId` (`nBytes` on the wire) */
  sent(requestId: number, nBytes: number): void;
  /** a forward pass at the root ended */
  pass(stamps: PassStamps): void;
  /** a node of the run, with its machine and share of the model */
  node(facts: LabelledNodeFacts): void;
}

/** Records nothing; `enabled` is false, so nobody even reads the clock for it. */
export const NULL_RECORDER: Recorder = Object.freeze({ enabled: false, hop() {}, sent() {}, pass() {}, node() {} });

/** Keeps the hops reported to it (a worker times each profiled batch through one of these). */
export class HopCapture implements Recorder {
  readonly enabled = true;
  readonly hops: HopTiming[] = [];
  hop(hop: HopTiming): void {
    this.hops.push(hop);
  }
  sent(): void {}
  pass(): void {}
  node(): void {}
}
