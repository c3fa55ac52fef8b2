/**
 * The completion calls the server has running, each with the AbortSignal it passes to the
 * model: a client that disconnects aborts its own call (its sequence leaves the batch within one
 * token), and shutdown can abort all of them.
 */
import type { ServerResponse } from "node:http";
import type { ServerMetrics } from "./metrics.js";

export type CancelReason = "disconnect" | "shutdown";

export class Call {
  private readonly controller = new AbortController();
  private readonly started = performance.now();
  private firstPieceAt?: number;

  constructor(private readonly onFirstPiece: (seconds: number) => void) {}

  /** pass to the model: fires when the client goes away or the server shuts down */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** why the call was cancelled, if it was */
  get cancelled(): CancelReason | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as CancelReason) : undefined;
  }

  cancel(reason: CancelReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** notes the first generated text (time to first token) */
  piece(): void {
    if (this.firstPieceAt !== undefined) return;
    this.firstPieceAt = performance.now();
    this.onFirstPiece((this.firstPieceAt - this.started) / 1000);
  }
}

export class CallTracker {
  private readonly calls = new Set<Call>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly metrics: ServerMetrics) {}

  get size(): number {
    return this.calls.size;
  }

  /**
   * A call for one request; it is cancelled ("disconnect") when `response` closes before it has
   * been sent whole. `end()` it when the request is done.
   */
  begin(response: ServerResponse): { call: Call; end: () => void } {
    const call = new Call((seconds) => this.metrics.timeToFirstToken.observe(seconds));
    const onClose = () => {
      if (!response.writableFinished) call.cancel("disconnect");
    };
    response.once("close", onClose);
    this.calls.add(call);
    this.metrics.inFlight.set(this.calls.size);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      response.off("close", onClose);
      this.calls.delete(call);
      this.metrics.inFlight.set(this.calls.size);
      if (call.cancelled) this.metrics.cancelled.inc({ reason: call.cancelled });
      if (this.calls.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
    return { call, end };
  }

  /** Cancels every call (shutdown). */
  cancelAll(reason: CancelReason): void {
    for (const call of this.calls) call.cancel(reason);
  }

  /** Resolves when no call is running. */
  idle(): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
