import type { Model } from "./model/model.js";
import type { LayerRunner } from "./model/layerRunner.js";
import { AbortError, OptionError } from "./errors.js";
import { NULL_RECORDER, type Recorder } from "../telemetry/recorder.js";

/** What `evaluate` may be given besides the tokens. */
export interface EvaluateOptions {
  /** checked before every forward pass: an aborted signal throws AbortError (nothing of that pass is kept) */
  readonly signal?: AbortSignal;
  /** called after every forward pass with the tokens evaluated so far and in all */
  readonly onProgress?: (tokensDone: number, tokensTotal: number) => void;
}

export interface SessionOptions {
  /** tokens per forward pass during prefill (default DEFAULT_BATCH_SIZE) */
  readonly batchSize?: number;
  /** forward passes are timed into it when it is enabled (profiling) */
  readonly recorder?: Recorder;
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
  readonly batchSize: number;
  private readonly recorder: Recorder;
  private readonly logitsOut: Float32Array;

  constructor(
    readonly model: Model,
    readonly runner: LayerRunner,
    readonly sequenceId = 0,
    options: SessionOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) throw new OptionError("BAD_BATCH_SIZE", `batch size ${this.batchSize} must be a positive integer`);
    this.recorder = options.recorder ?? NULL_RECORDER;
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
    if (this.position + tokens.length > this.model.contextSize) {
      throw new OptionError("CONTEXT_FULL", `context is full: ${this.position + tokens.length} positions needed, context size is ${this.model.contextSize}`);
    }
    for (let start = 0; start < tokens.length; start += this.batchSize) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve)); // lets a signal handler run between passes
      if (options.signal?.aborted) throw new AbortError();
      const chunk = tokens.slice(start, start + this.batchSize);
      await this.pass(chunk, start + chunk.length >= tokens.length);
      options.onProgress?.(start + chunk.length, tokens.length);
    }
    return this.logitsOut;
  }

  /** One forward pass: embed, run every layer, and (for the last chunk) the output head. */
  private async pass(chunk: readonly number[], final: boolean): Promise<void> {
    const timed = this.recorder.enabled;
    const startMs = timed ? performance.now() : 0;
    const { nEmbd, nLayer } = this.model.hparams;
    const hidden = new Float32Array(chunk.length * nEmbd);
    this.model.embed(chunk, hidden);
    const embeddedMs = timed ? performance.now() : 0;
    const position = this.position;
    const [last] = await this.runner.run([{ sequenceId: this.sequenceId, position, nTokens: chunk.length, hidden }], { from: 0, to: nLayer }, { rows: "last", recorder: this.recorder });
    this.history.push(...chunk);
    const layersDoneMs = timed ? performance.now() : 0;
    if (final) this.model.logits(last, this.logitsOut);
    if (timed) this.recorder.pass({ sequenceId: this.sequenceId, position, nTokens: chunk.length, startMs, embeddedMs, layersDoneMs, endMs: final ? performance.now() : layersDoneMs });
  }

  /** Forgets everything from `position` on. */
  async rewind(position: number): Promise<void> {
    this.history.length = Math.min(this.history.length, position);
    await this.runner.truncate(this.sequenceId, position);
  }
}
