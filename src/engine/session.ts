import type { Model } from "./model/model.js";
import type { LayerRunner, SequenceBatch } from "./model/layerRunner.js";
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
  /** tokens the runner already holds in this sequence's KV cache (a reused sequence): the session continues after them */
  readonly history?: readonly number[];
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
    this.history.push(...(options.history ?? []));
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
    await evaluateTogether([{ session: this, tokens: chunk, wantLogits: final }]);
  }

  /**
   * One forward pass of at most batchSize tokens; returns the logits after the last one when
   * asked (f32 [nVocab], valid until this session's next pass), else undefined.
   */
  async step(tokens: readonly number[], wantLogits: boolean): Promise<Float32Array | undefined> {
    const [logits] = await evaluateTogether([{ session: this, tokens, wantLogits }]);
    return logits;
  }

  /** @internal the batch of a pass over `tokens`: embedded, after the context checks */
  prepare(tokens: readonly number[]): SequenceBatch {
    if (tokens.length === 0 || tokens.length > this.batchSize) throw new OptionError("BAD_BATCH", `a forward pass takes 1 to ${this.batchSize} tokens, got ${tokens.length}`);
    if (this.position + tokens.length > this.model.contextSize) {
      throw new OptionError("CONTEXT_FULL", `context is full: ${this.position + tokens.length} positions needed, context size is ${this.model.contextSize}`);
    }
    const hidden = new Float32Array(tokens.length * this.model.hparams.nEmbd);
    this.model.embed(tokens, hidden);
    return { sequenceId: this.sequenceId, position: this.position, nTokens: tokens.length, hidden, tokens };
  }

  /** @internal after the pass: the tokens join the history; returns where this session's logits go (f32 [nVocab]) */
  commit(tokens: readonly number[]): Float32Array {
    this.history.push(...tokens);
    return this.logitsOut;
  }

  /** @internal */
  get passRecorder(): Recorder {
    return this.recorder;
  }

  /** Forgets everything from `position` on. */
  async rewind(position: number): Promise<void> {
    this.history.length = Math.min(this.history.length, position);
    await this.runner.truncate(this.sequenceId, position);
  }
}

/** One sequence's part of a shared forward pass. */
export interface StepItem {
  readonly session: Session;
  /** 1 to session.batchSize tokens */
  readonly tokens: readonly number[];
  readonly wantLogits: boolean;
}

/**
 * One forward pass for several sessions of the same model and runner at once: every layer runs
 * over all their rows together (continuous batching), each with its own KV cache. Returns each
 * item's logits (when it wanted them; valid until its session's next pass).
 */
export async function evaluateTogether(items: readonly StepItem[]): Promise<(Float32Array | undefined)[]> {
  if (items.length === 0) return [];
  const { runner, model } = items[0].session;
  if (items.some((item) => item.session.runner !== runner || item.session.model !== model)) {
    throw new OptionError("BAD_BATCH", "sessions evaluated together must share their model and runner");
  }
  const recorder = items.length === 1 ? items[0].session.passRecorder : NULL_RECORDER;
  const timed = recorder.enabled;
  const startMs = timed ? performance.now() : 0;
  const batches = items.map((item) => item.session.prepare(item.tokens));
  const embeddedMs = timed ? performance.now() : 0;
  const lastRows = await runner.run(batches, { from: 0, to: model.hparams.nLayer }, { rows: "last", recorder });
  const layersDoneMs = timed ? performance.now() : 0;
  const outs = items.map((item) => item.session.commit(item.tokens));
  // one pass of the output head serves every sequence that wants logits
  const wanting = items.flatMap((item, i) => (item.wantLogits ? [i] : []));
  model.logitsMany(wanting.map((i) => lastRows[i]), wanting.map((i) => outs[i]));
  const logits = items.map((item, i) => (item.wantLogits ? outs[i] : undefined));
  if (timed) {
    const { sequenceId, position, nTokens } = batches[0];
    recorder.pass({ sequenceId, position, nTokens, startMs, embeddedMs, layersDoneMs, endMs: items[0].wantLogits ? performance.now() : layersDoneMs });
  }
  return logits;
}
