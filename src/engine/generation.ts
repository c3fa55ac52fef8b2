/**
 * One generation, step by step: which tokens the next forward pass of its sequence must take
 * (a chunk of the prompt, or the token just sampled), and what to do with the logits that come
 * back (sample, decode, check the stop conditions). `generate()` drives one of these through
 * its session alone; the API's scheduler drives many through shared forward passes. Either way
 * the sequence sees the same passes, so its arithmetic is the same.
 */
import type { Session } from "./session.js";
import { StreamingDecoder } from "./tokenizer/index.js";
import { StopMatcher } from "./stopStrings.js";
import { OptionError } from "./errors.js";

/** Anything that turns logits into a token (the Sampler, or a test double). */
export interface TokenSampler {
  sample(logits: Float32Array, history: readonly number[]): number;
}

export interface GenerationOptions {
  readonly maxTokens: number;
  readonly sampler: TokenSampler;
  /** keep going past end-of-generation tokens */
  readonly ignoreEos?: boolean;
  /** generation ends before the first of these strings; the string is not yielded */
  readonly stop?: readonly string[];
  /** monotonic clock in milliseconds (injected for tests) */
  readonly nowMs?: () => number;
}

export type StopReason = "eos" | "max-tokens" | "stop" | "context-full" | "aborted";

export interface GeneratedPiece {
  /** the token this text comes from; −1 for text released at the end (held back until then) */
  readonly token: number;
  /** the text this token completes (may be empty while a UTF-8 character is split or a stop string may be starting) */
  readonly text: string;
}

export interface GenerationTimings {
  readonly promptTokens: number;
  readonly promptSeconds: number;
  readonly generatedTokens: number;
  readonly generateSeconds: number;
  readonly stopReason: StopReason;
}

export class Generation {
  private readonly decoder: StreamingDecoder;
  private readonly stops: StopMatcher;
  private readonly nowMs: () => number;
  /** prompt tokens handed to forward passes so far */
  private promptSent = 0;
  private lastToken = -1;
  private generated = 0;
  private startMs = -1;
  private promptDoneMs = -1;
  private endMs = -1;
  private reason: StopReason | undefined;

  constructor(
    readonly session: Session,
    readonly promptTokens: readonly number[],
    private readonly options: GenerationOptions,
  ) {
    if (promptTokens.length === 0) throw new OptionError("EMPTY_INPUT", "nothing to evaluate: the prompt has no tokens");
    const needed = session.position + promptTokens.length;
    if (needed > session.model.contextSize) {
      throw new OptionError("CONTEXT_FULL", `context is full: ${needed} positions needed, context size is ${session.model.contextSize}`);
    }
    this.decoder = new StreamingDecoder(session.model.tokenizer);
    this.stops = new StopMatcher(options.stop ?? []);
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  get done(): boolean {
    return this.reason !== undefined;
  }

  get stopReason(): StopReason | undefined {
    return this.reason;
  }

  /** Whether the prompt is still being read (no token sampled yet). */
  get readingPrompt(): boolean {
    return this.promptSent < this.promptTokens.length || this.promptDoneMs < 0;
  }

  /** The tokens of this sequence's next forward pass (a prompt chunk of at most session.batchSize, or the last token), and whether its logits are needed. */
  nextInput(): { tokens: readonly number[]; wantLogits: boolean } {
    if (this.startMs < 0) this.startMs = this.nowMs();
    if (this.promptSent < this.promptTokens.length) {
      const chunk = this.promptTokens.slice(this.promptSent, this.promptSent + this.session.batchSize);
      this.promptSent += chunk.length;
      return { tokens: chunk, wantLogits: this.promptSent === this.promptTokens.length };
    }
    return { tokens: [this.lastToken], wantLogits: true };
  }

  /**
   * Takes the logits of the pass `nextInput` asked for: samples the next token and returns the
   * text it completes, or undefined when the pass read more of the prompt. After this, `done`
   * says whether the generation ended (EOG token, maxTokens, a stop string, a full context).
   */
  accept(logits: Float32Array | undefined): GeneratedPiece | undefined {
    if (logits === undefined) return undefined;
    if (this.promptDoneMs < 0) this.promptDoneMs = this.nowMs();
    if (this.generated >= this.options.maxTokens) return this.finish("max-tokens");
    const token = this.options.sampler.sample(logits, this.session.history);
    if (!this.options.ignoreEos && this.session.model.tokenizer.isEog(token)) return this.finish("eos");
    this.generated++;
    this.lastToken = token;
    const piece = { token, text: this.stops.push(this.decoder.push(token)) };
    if (this.stops.stopped) this.finish("stop");
    else if (this.generated >= this.options.maxTokens) this.finish("max-tokens");
    else if (this.session.position + 1 > this.session.model.contextSize) this.finish("context-full");
    return piece;
  }

  /** Ends the generation (when not ended already): `reason` is kept, the first one wins. */
  abort(): void {
    this.finish("aborted");
  }

  /** Text held back until the end (an incomplete character, a possible stop string's start); "" before the end. */
  tail(): string {
    return this.done ? this.stops.push(this.decoder.flush()) + this.stops.flush() : "";
  }

  timings(): GenerationTimings {
    const end = this.endMs >= 0 ? this.endMs : this.nowMs();
    const promptDone = this.promptDoneMs >= 0 ? this.promptDoneMs : end;
    const start = this.startMs >= 0 ? this.startMs : end;
    return {
      promptTokens: this.promptTokens.length,
      promptSeconds: (promptDone - start) / 1000,
      generatedTokens: this.generated,
      generateSeconds: (end - promptDone) / 1000,
      stopReason: this.reason ?? "aborted",
    };
  }

  private finish(reason: StopReason): undefined {
    if (this.reason === undefined) {
      this.reason = reason;
      this.endMs = this.nowMs();
    }
    return undefined;
  }
}
