/**
 * Splits a block's compute time into operations (BLOCK_OPS) for profiled runs. A block calls
 * `lap(op)` after each stretch of work; the time since the previous lap goes to `op`. Passed
 * only when profiling: without a timer, forwardBlock makes no clock calls at all. Laps write
 * into a Float64Array by index (no allocation per layer; this runs ~7 times per layer).
 */
import { BLOCK_OPS, type BlockOp } from "./records.js";

export type OpMs = Record<BlockOp, number>;

/** Index of each op in BLOCK_OPS, for `lap`. */
export const Op = {
  attnProjections: BLOCK_OPS.indexOf("attnProjections"),
  attention: BLOCK_OPS.indexOf("attention"),
  ffn: BLOCK_OPS.indexOf("ffn"),
  normsRope: BLOCK_OPS.indexOf("normsRope"),
} as const satisfies Record<BlockOp, number>;

export class OpTimer {
  private readonly ms = new Float64Array(BLOCK_OPS.length);
  private lastMs = 0;

  /** @param nowMs a clock for tests; by default performance.now(), called directly */
  constructor(private readonly nowMs?: () => number) {}

  /** Starts a new split; returns the time now (ms). */
  start(): number {
    this.ms[0] = this.ms[1] = this.ms[2] = this.ms[3] = 0;
    this.lastMs = this.nowMs ? this.nowMs() : performance.now();
    return this.lastMs;
  }

  /** @param op an index from `Op` */
  lap(op: number): void {
    const now = this.nowMs ? this.nowMs() : performance.now();
    this.ms[op] += now - this.lastMs;
    this.lastMs = now;
  }

  /** ms per operation since start() */
  opMs(): OpMs {
    const ms = this.ms;
    return { attnProjections: ms[Op.attnProjections], attention: ms[Op.attention], ffn: ms[Op.ffn], normsRope: ms[Op.normsRope] };
  }
}
