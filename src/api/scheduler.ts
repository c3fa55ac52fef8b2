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
}

export class Scheduler {
  private readonly waiting: Running[] = [];
  private readonly active: Running[] = [];
  private looping = false;
  private closing?: LayerstreamError;

  constructor(
    private readonly parallel: number,
    private readonly maxQueue: number,
  ) {}

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
      this.waiting.push({ job, resolve, reject, promptDone: 0 });
      if (!this.looping) void this.loop();
    });
  }

  /** Refuses new calls; ends the running and waiting ones with `reason`; resolves when the passes have stopped. */
  async close(reason: LayerstreamError): Promise<void> {
    this.closing = reason;
    while (this.looping) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const entry of this.waiting.splice(0)) entry.reject(reason);
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.active.length > 0 || this.waiting.length > 0) {
        // let signals, sockets and new calls in between passes
        await new Promise((resolve) => setImmediate(resolve));
        if (this.closing) {
          await Promise.all(this.active.splice(0).map((entry) => this.end(entry, this.closing)));
          break;
        }
        while (this.active.length < this.parallel && this.waiting.length > 0) this.active.push(this.waiting.shift()!);
        await this.step();
      }
    } finally {
      this.looping = false;
    }
  }

  /** One forward pass over every active sequence that is still going. */
  private async step(): Promise<void> {
    for (const entry of [...this.active]) if (entry.job.signal.aborted) entry.job.generation.abort();
    await this.retire();
    if (this.active.length === 0) return;
    const inputs = this.active.map((entry) => ({ entry, reading: entry.job.generation.readingPrompt, ...entry.job.generation.nextInput() }));
    let logits: (Float32Array | undefined)[];
    try {
      logits = await evaluateTogether(inputs.map(({ entry, tokens, wantLogits }) => ({ session: entry.job.generation.session, tokens, wantLogits })));
    } catch (error) {
      await Promise.all(this.active.splice(0).map((entry) => this.end(entry, error)));
      return;
    }
    inputs.forEach(({ entry, tokens, reading }, i) => {
      if (reading) entry.job.onPromptProgress?.((entry.promptDone += tokens.length), entry.job.generation.promptTokens.length);
      const piece = entry.job.generation.accept(logits[i]);
      if (piece?.text) entry.job.emit(piece.text);
    });
    await this.retire();
  }

  /** Ends the generations that are done. */
  private async retire(): Promise<void> {
    const done = this.active.filter((entry) => entry.job.generation.done);
    for (const entry of done) this.active.splice(this.active.indexOf(entry), 1);
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
