/**
 * Continuous batching: up to `parallel` sequences generate at once, and every forward pass runs
 * all of them together — each layer read once (from RAM, disk or a worker) serves every
 * sequence, while each keeps its own KV cache and sampler. Sequences join and leave between
 * passes; calls beyond `parallel` wait in a bounded queue (beyond `maxQueue`: QueueFullError).
 */
import { AbortError, LayerstreamError, QueueFullError } from "../engine/errors.js";
import { evaluateTogether } from "../engine/session.js";
import type { Generation, GenerationTimings } from "../engine/generation.js";

/** One call being served: its generation, where its text goes, and how it ends. */
export interface Job {
  readonly generation: Generation;
  /** fires when the call must stop: the caller's signal, or the consumer leaving early */
  readonly signal: AbortSignal;
  /** the caller's own signal: when it fired, the call rejects with AbortError (leaving early resolves, stopReason "aborted") */
  readonly callerSignal?: AbortSignal;
  emit(text: string): void;
  onPromptProgress?(tokensDone: number, tokensTotal: number): void;
  /** the sequence's KV cache is forgotten and its id freed */
  release(): Promise<void>;
}

interface Running {
  readonly job: Job;
  readonly resolve: (timings: GenerationTimings) => void;
  readonly reject: (error: unknown) => void;
  promptDone: number;
  /** the lane whose passes carry this sequence */
  lane: number;
}

export class Scheduler {
  private readonly waiting: Running[] = [];
  private readonly active: Running[] = [];
  /** lanes whose loop is running */
  private readonly lanes: boolean[];
  private closing?: LayerstreamError;
  /** exclusive work asked for or running: while above 0, no waiting call starts */
  private paused = 0;
  /** the last exclusive work (settled or not): the next one starts after it */
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private readonly closed = new AbortController();

  /**
   * @param lanes forward passes kept in flight at once (a pipeline of workers: one per stage, so
   *   while one group of sequences is in a later stage the next group fills the first); each
   *   lane carries its own share of the sequences through its own passes. 1: one pass at a time.
   */
  constructor(
    private readonly parallel: number,
    private readonly maxQueue: number,
    lanes = 1,
  ) {
    this.lanes = new Array<boolean>(Math.max(1, Math.min(lanes, parallel))).fill(false);
  }

  /** Sequences generating now, and calls waiting for a slot. */
  get load(): { active: number; waiting: number } {
    return { active: this.active.length, waiting: this.waiting.length };
  }

  /** Runs the job with the others; resolves with its timings when it ends (rejects on error or on its signal). */
  submit(job: Job): Promise<GenerationTimings> {
    if (this.closing) return Promise.reject(this.closing);
    const freeSlots = Math.max(0, this.parallel - this.active.length);
    if (this.waiting.length >= freeSlots + this.maxQueue) return Promise.reject(new QueueFullError(this.waiting.length - freeSlots));
    return new Promise((resolve, reject) => {
      const entry: Running = { job, resolve, reject, promptDone: 0, lane: -1 };
      this.waiting.push(entry);
      // a call that gives up while it waits leaves the queue at once (its slot goes to the next)
      job.signal.addEventListener("abort", () => void this.leaveQueue(entry), { once: true });
      this.lanes.forEach((running, lane) => running || void this.runLane(lane));
    });
  }

  /**
   * Runs `work` alone on the model (a perplexity measurement): it starts once the sequences
   * running now have finished, and calls made meanwhile wait in the queue until it ends.
   * Exclusive works run one after another, in the order asked. `stop` fires, with the close
   * reason, when the scheduler closes: the work should then end soon by throwing it.
   */
  exclusive<T>(work: (stop: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(this.closing);
    this.paused++;
    const run = this.exclusiveTail.then(async () => {
      while (this.lanes.some((running) => running)) await new Promise((resolve) => setTimeout(resolve, 1));
      if (this.closing) throw this.closing;
      return work(this.closed.signal);
    });
    this.exclusiveTail = run.catch(() => {});
    return run.finally(() => {
      this.paused--;
      if (this.paused === 0 && !this.closing && this.waiting.length > 0) this.lanes.forEach((running, lane) => running || void this.runLane(lane));
    });
  }

  /** Refuses new calls; ends the running and waiting ones with `reason`; resolves when the passes have stopped. */
  async close(reason: LayerstreamError): Promise<void> {
    this.closing = reason;
    this.closed.abort(reason);
    while (this.lanes.some((running) => running)) await new Promise((resolve) => setTimeout(resolve, 1));
    await this.exclusiveTail;
    for (const entry of this.waiting.splice(0)) entry.reject(reason);
  }

  /** One lane: takes waiting calls up to its share, and runs passes over its sequences until it has none. */
  private async runLane(lane: number): Promise<void> {
    this.lanes[lane] = true;
    const share = Math.ceil(this.parallel / this.lanes.length);
    try {
      for (;;) {
        // let signals, sockets and new calls in between passes
        await new Promise((resolve) => setImmediate(resolve));
        if (this.closing) {
          await Promise.all(this.take(lane).map((entry) => this.end(entry, this.closing)));
          break;
        }
        while (this.paused === 0 && this.active.length < this.parallel && this.waiting.length > 0 && this.mine(lane).length < share) {
          const entry = this.waiting.shift()!;
          entry.lane = lane;
          this.active.push(entry);
        }
        if (this.mine(lane).length === 0) break;
        await this.step(lane);
      }
    } finally {
      this.lanes[lane] = false;
    }
  }

  private mine(lane: number): Running[] {
    return this.active.filter((entry) => entry.lane === lane);
  }

  /** Removes the lane's sequences from the active ones and returns them. */
  private take(lane: number, which: (entry: Running) => boolean = () => true): Running[] {
    const taken = this.mine(lane).filter(which);
    for (const entry of taken) this.active.splice(this.active.indexOf(entry), 1);
    return taken;
  }

  /** One forward pass over every sequence of the lane that is still going. */
  private async step(lane: number): Promise<void> {
    for (const entry of this.mine(lane)) if (entry.job.signal.aborted) entry.job.generation.abort();
    await this.retire(lane);
    const entries = this.mine(lane);
    if (entries.length === 0) return;
    const inputs = entries.map((entry) => ({ entry, reading: entry.job.generation.readingPrompt, ...entry.job.generation.nextInput() }));
    let logits: (Float32Array | undefined)[];
    try {
      logits = await evaluateTogether(inputs.map(({ entry, tokens, wantLogits }) => ({ session: entry.job.generation.session, tokens, wantLogits })));
    } catch (error) {
      await Promise.all(this.take(lane).map((entry) => this.end(entry, error)));
      return;
    }
    inputs.forEach(({ entry, tokens, reading }, i) => {
      if (reading) entry.job.onPromptProgress?.((entry.promptDone += tokens.length), entry.job.generation.promptTokens.length);
      const piece = entry.job.generation.accept(logits[i]);
      if (piece?.text) entry.job.emit(piece.text);
    });
    await this.retire(lane);
  }

  private async leaveQueue(entry: Running): Promise<void> {
    const at = this.waiting.indexOf(entry);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    entry.job.generation.abort();
    await this.end(entry);
  }

  /** Ends the lane's generations that are done. */
  private async retire(lane: number): Promise<void> {
    const done = this.take(lane, (entry) => entry.job.generation.done);
    await Promise.all(done.map((entry) => this.end(entry)));
  }

  /** Releases the sequence and settles the call: the tail of its text, then its timings or the error. */
  private async end(entry: Running, error?: unknown): Promise<void> {
    const { job } = entry;
    if (error === undefined) {
      const tail = job.generation.tail();
      if (tail) job.emit(tail);
    }
    try {
      await job.release();
    } catch (releaseError) {
      error ??= releaseError;
    }
    if (error !== undefined) return entry.reject(error);
    if (job.generation.stopReason === "aborted" && job.callerSignal?.aborted) return entry.reject(new AbortError("the completion was aborted"));
    entry.resolve(job.generation.timings());
  }
}
