/**
 * The text of one completion as it is generated: an async iterable of UTF-8-safe pieces, plus
 * `result`, which settles when the completion ends. Generation starts at once (queued behind
 * earlier calls on the same model) whether or not anyone iterates; leaving a `for await` early
 * stops it.
 */
import type { StopReason } from "../engine/generate.js";

/** Tokens a completion read and wrote. */
export interface CompletionUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** prompt tokens whose KV cache an earlier call left (the prompt cache): not evaluated again */
  readonly cachedPromptTokens: number;
}

/** How long a completion took: reading the prompt, and generating (seconds, and tokens per second). */
export interface CompletionTimings {
  readonly promptSeconds: number;
  readonly generateSeconds: number;
  readonly promptTokensPerSecond: number;
  readonly generatedTokensPerSecond: number;
}

export interface CompletionResult {
  /** the whole generated text (the prompt not included; a stop string not included) */
  readonly text: string;
  /**
   * why it ended: an end-of-generation token, maxTokens, a stop string, the context is full,
   * or the caller left the iteration early ("aborted"; a fired signal rejects instead)
   */
  readonly stopReason: StopReason;
  readonly usage: CompletionUsage;
  readonly timings: CompletionTimings;
  /** the sampler's seed (the one given, or the random one drawn) */
  readonly seed: number;
}

/** Runs the completion, calling `emit` with each piece; `stop` fires when the consumer leaves early. */
export type CompletionProducer = (emit: (piece: string) => void, stop: AbortSignal) => Promise<CompletionResult>;

export class CompletionStream implements AsyncIterable<string> {
  /** settles when the completion ends: rejects with the call's error (AbortError when its signal fired) */
  readonly result: Promise<CompletionResult>;
  private readonly pieces: string[] = [];
  private finished = false;
  private failure: unknown;
  private wake?: () => void;
  private iterated = false;
  private readonly stopController = new AbortController();

  /** @internal */
  constructor(produce: CompletionProducer) {
    this.result = produce((piece) => this.push(piece), this.stopController.signal).finally(() => {
      this.finished = true;
      this.wake?.();
    });
    this.result.catch((error: unknown) => {
      this.failure = error;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.iterated) throw new Error("a CompletionStream can be iterated once");
    this.iterated = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.stopController.abort();
        await this.result.catch(() => {});
        return { done: true, value: undefined };
      },
    };
  }

  private push(piece: string): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.wake?.();
  }

  private async next(): Promise<IteratorResult<string>> {
    for (;;) {
      const piece = this.pieces.shift();
      if (piece !== undefined) return { done: false, value: piece };
      if (this.finished) {
        await this.result.catch(() => {}); // lets the failure handler above run first
        if (this.failure !== undefined) throw this.failure;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
