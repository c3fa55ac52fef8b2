import type { Model } from "./model/model.js";
import type { LayerRunner } from "./model/layerRunner.js";
import { AbortError, OptionError } from "./errors.js";

/** performance.now() stamps of one forward pass, for profiling. */
export interface PassStamps {
  readonly nTokens: number;
  readonly startMs: number;
  /** embeddings done, layers start */
  readonly embeddedMs: number;
  /** the runner returned */
  readonly layersDoneMs: number;
  /** logits done (the last chunk of an evaluate), else = layersDoneMs */
  readonly endMs: number;
}

/** What `evaluate` may be given besides the tokens. */
export interface EvaluateOptions {
  /** checked before every forward pass: an aborted signal throws AbortError (nothing of that pass is kept) */
  readonly signal?: AbortSignal;
  /** called after every forward pass with the tokens evaluated so far and in all */
  readonly onProgress?: (tokensDone: number, tokensTotal: number) => void;
}

/** Tokens per forward pass during prefill (llama.cpp's default micro-batch). */
export const DEFAULT_BATCH_SIZE = 512;

/**
 * One sequence being evaluated: embeds tokens at the root, runs every block through the
 * runner (local or remote, the session cannot tell), and returns last-position logits.
 */
export class Session {
  /** tokens evaluated so far, in order */
  readonly history: number[] = [];
  private readonly logitsOut: Float32Array;
  /** called after every forward pass when set (profiling) */
  onPass?: (stamps: PassStamps) => void;

  constructor(
    readonly model: Model,
    readonly runner: LayerRunner,
    readonly sequenceId = 0,
    readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new OptionError("BAD_BATCH_SIZE", `batch size ${batchSize} must be a positive integer`);
    this.logitsOut = new Float32Array(model.hparams.nVocab);
  }

  get position(): number {
    return this.history.length;
  }

  /**
   * Evaluates tokens (a whole prompt is processed as matrices of up to batchSize rows) and
   * returns the logits after the last one: f32 [nVocab], valid until the next call.
   */
  async evaluate(tokens: readonly number[], options: EvaluateOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0) throw new OptionError("EMPTY_INPUT", "nothing to evaluate: the token list is empty");
    const { nEmbd, nLayer } = this.model.hparams;
    if (this.position + tokens.length > this.model.contextSize) {
      throw new OptionError("CONTEXT_FULL", `context is full: ${this.position + tokens.length} positions needed, context size is ${this.model.contextSize}`);
    }
    let last: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += this.batchSize) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve)); // lets a signal handler run between passes
      if (options.signal?.aborted) throw new AbortError();
      const observe = this.onPass;
      const startMs = observe ? performance.now() : 0;
      const chunk = tokens.slice(start, start + this.batchSize);
      const hidden = new Float32Array(chunk.length * nEmbd);
      this.model.embed(chunk, hidden);
      const embeddedMs = observe ? performance.now() : 0;
      const out = await this.runner.run({ sequenceId: this.sequenceId, position: this.position, nTokens: chunk.length, hidden }, 0, nLayer);
      this.history.push(...chunk);
      last = out.subarray((chunk.length - 1) * nEmbd, chunk.length * nEmbd);
      options.onProgress?.(start + chunk.length, tokens.length);
      if (observe) {
        const layersDoneMs = performance.now();
        const final = start + this.batchSize >= tokens.length;
        if (final) this.model.logits(last, this.logitsOut);
        observe({ nTokens: chunk.length, startMs, embeddedMs, layersDoneMs, endMs: final ? performance.now() : layersDoneMs });
        if (final) return this.logitsOut;
      }
    }
    this.model.logits(last!, this.logitsOut);
    return this.logitsOut;
  }

  /** Forgets everything from `position` on. */
  async rewind(position: number): Promise<void> {
    this.history.length = Math.min(this.history.length, position);
    await this.runner.truncateSequence(this.sequenceId, position);
  }
}
