/**
 * Splits a block's compute time into operations (BLOCK_OPS) for profiled runs. A block calls
 * `lap(op)` after each stretch of work; the time since the previous lap goes to `op`. Passed
 * only when profiling: without a timer, forwardBlock makes no clock calls at all.
 */
import { BLOCK_OPS, type BlockOp } from "../../protocol/profileRecords.js";

export type OpMs = Record<BlockOp, number>;

export function zeroOpMs(): OpMs {
  return Object.fromEntries(BLOCK_OPS.map((op) => [op, 0])) as OpMs;
}

export class OpTimer {
  /** ms per operation since the last reset */
  opMs: OpMs = zeroOpMs();
  private lastMs = 0;

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** Starts a new split; returns the time now (ms). */
  start(): number {
    this.opMs = zeroOpMs();
    this.lastMs = this.nowMs();
    return this.lastMs;
  }

  lap(op: BlockOp): void {
    const now = this.nowMs();
    this.opMs[op] += now - this.lastMs;
    this.lastMs = now;
  }

  /** time of the last lap (ms) */
  get lastLapMs(): number {
    return this.lastMs;
  }
}
