/**
 * A model ready to generate: what `loadModel()` returns. The same object runs a model in this
 * process (resident or streamed under a memory budget) or across workers; callers cannot tell.
 * Calls on one model run one at a time, in the order made (a queue), so two at once never
 * touch each other's state.
 */
import { AbortError, LayerstreamError, OptionError } from "../engine/errors.js";
import { Session } from "../engine/session.js";
import { Generation, type GenerationTimings, type TokenSampler } from "../engine/generation.js";
import { Sampler } from "../engine/sampling/sampler.js";
import { createRng } from "../engine/sampling/rng.js";
import { randomSeed } from "../engine/sampling/randomSeed.js";
import type { Recorder } from "../telemetry/recorder.js";
import { CompletionStream, type CompletionResult } from "./completionStream.js";
import { ChatFormatter, type ChatMessage, type ChatTool } from "../engine/chat/index.js";
import { checkCompletionOptions, DEFAULT_MAX_QUEUE, DEFAULT_MAX_TOKENS, stopList, type CompletionOptions } from "./options.js";
import type { ModelCore } from "./modelCore.js";
import type { ModelInfo } from "./modelInfo.js";
import { collectStats, type ModelStats, type UsageTotals } from "./modelStats.js";
import { Scheduler } from "./scheduler.js";
import { SequenceSlots } from "./sequenceSlots.js";
import { measurePerplexity, perplexityTokens, planChunks, type PerplexityOptions, type PerplexityResult } from "./perplexity.js";

/** A completion's telemetry: the recorder its session and runner report to, and a wrapper around its sampler (profiling). @internal */
export interface CompletionObserver extends Recorder {
  wrapSampler(sampler: TokenSampler): TokenSampler;
}

export interface TokenizeOptions {
  /** add the model's BOS token in front (default false) */
  readonly addBos?: boolean;
  /** turn special-token texts such as `<|im_start|>` into their ids (default false: plain text) */
  readonly parseSpecial?: boolean;
}

/** Options of `chat()`: a completion's, plus what the chat template may use. */
export interface ChatOptions extends CompletionOptions {
  /** tools the model may call (templates that support tools render them) */
  readonly tools?: readonly ChatTool[];
  /** for templates with a thinking switch (Qwen3 and others); default true */
  readonly enableThinking?: boolean;
}

export class LoadedModel implements AsyncDisposable {
  private readonly scheduler: Scheduler;
  private readonly slots: SequenceSlots;
  private readonly totals: UsageTotals = { completions: 0, promptTokens: 0, generatedTokens: 0, promptSeconds: 0, generateSeconds: 0 };
  private disposing?: Promise<void>;
  private chatFormatter?: ChatFormatter;

  /** @internal use loadModel() */
  constructor(
    /** @internal */ readonly core: ModelCore,
    /** what the model is: architecture, size, quantization, context, chat template */
    readonly info: ModelInfo,
    limits: { readonly parallel: number; readonly maxQueue: number; readonly promptCache?: boolean } = { parallel: 1, maxQueue: DEFAULT_MAX_QUEUE },
  ) {
    this.scheduler = new Scheduler(limits.parallel, limits.maxQueue, core.runner.concurrency ?? 1);
    this.slots = new SequenceSlots(core.runner, limits.promptCache === false ? 0 : limits.parallel);
  }

  /** Sequences generating now, and calls waiting for a slot (for servers and dashboards). */
  get load(): { readonly active: number; readonly waiting: number } {
    return this.scheduler.load;
  }

  /** true once dispose() has been called */
  get disposed(): boolean {
    return this.disposing !== undefined;
  }

  /**
   * Generates a continuation of `prompt` and resolves with its whole text.
   * @throws AbortError when `options.signal` fires (within one token); the model stays usable
   * @throws OptionError for an unknown or bad option, LayerstreamError subclasses for other bad input
   */
  async complete(prompt: string | readonly number[], options: CompletionOptions = {}): Promise<string> {
    const stream = this.stream(prompt, options);
    return (await stream.result).text;
  }

  /**
   * Generates a continuation of `prompt` piece by piece: `for await (const piece of model.stream(…))`.
   * Pieces are whole UTF-8 characters; `.result` gives the text, stop reason, token counts and timings.
   */
  stream(prompt: string | readonly number[], options: CompletionOptions = {}): CompletionStream {
    return this.streamObserved(prompt, options);
  }

  /** stream() with hooks into the session and sampler. @internal */
  streamObserved(prompt: string | readonly number[], options: CompletionOptions, observer?: CompletionObserver): CompletionStream {
    return new CompletionStream(async (emit, stop) => {
      this.checkUsable();
      checkCompletionOptions(options);
      if (options.signal?.aborted) throw new AbortError("the completion was aborted before it started");
      return this.runCompletion(prompt, options, emit, stop, observer);
    });
  }

  /**
   * Answers a conversation: the messages rendered with the model's chat template (ChatML when it
   * has none; control-token texts parsed as tokens, BOS not doubled), then completed like
   * `stream()`. Iterate it for the reply's pieces, or `await .result` for the whole reply.
   */
  chat(messages: readonly ChatMessage[], options: ChatOptions = {}): CompletionStream {
    return this.chatObserved(messages, options);
  }

  /** chat() with hooks into the session and sampler. @internal */
  chatObserved(messages: readonly ChatMessage[], options: ChatOptions, observer?: CompletionObserver): CompletionStream {
    const { tools, enableThinking, ...completion } = options;
    let prompt: number[];
    try {
      this.checkUsable();
      this.chatFormatter ??= ChatFormatter.forModel(this.core.model.file, this.core.model.tokenizer);
      prompt = this.chatFormatter.encode(messages, { tools, enableThinking });
    } catch (error) {
      return new CompletionStream(() => Promise.reject(error));
    }
    return this.streamObserved(prompt, { ...completion, addBos: false }, observer);
  }

  /** The prompt text `chat(messages)` would complete (the model's template applied). */
  formatChat(messages: readonly ChatMessage[], options: Pick<ChatOptions, "tools" | "enableThinking"> = {}): string {
    this.checkUsable();
    this.chatFormatter ??= ChatFormatter.forModel(this.core.model.file, this.core.model.tokenizer);
    return this.chatFormatter.format(messages, options);
  }

  /** Text → token ids with this model's tokenizer. */
  tokenize(text: string, options: TokenizeOptions = {}): number[] {
    this.checkUsable();
    return this.core.model.tokenizer.encode(text, { addSpecial: options.addBos ?? false, parseSpecial: options.parseSpecial ?? false });
  }

  /** Token ids → text (special tokens such as BOS print as nothing). */
  detokenize(ids: readonly number[]): string {
    this.checkUsable();
    return this.core.model.tokenizer.decode(ids);
  }

  /**
   * Perplexity of `text` by llama-perplexity's method: tokenized with BOS, cut into chunks of
   * `contextSize` tokens (default: the model's context), each evaluated from an empty KV cache
   * with only its second half scored. Runs alone on the model: it starts when the running calls
   * have finished, and calls made meanwhile wait for it.
   * @throws OptionError TEXT_TOO_SHORT (fewer than 2 × contextSize tokens), BAD_CONTEXT_SIZE, BAD_CHUNKS
   * @throws AbortError when `options.signal` fires (between forward passes); the model stays usable
   */
  async perplexity(text: string | readonly number[], options: PerplexityOptions = {}): Promise<PerplexityResult> {
    this.checkUsable();
    const { model, runner } = this.core;
    const tokens = typeof text === "string" ? perplexityTokens(model.tokenizer, text) : [...text];
    planChunks(tokens.length, options, model.contextSize); // bad options fail before the wait
    if (options.signal?.aborted) throw new AbortError("the perplexity measurement was aborted before it started");
    return this.scheduler.exclusive(async (stop) => {
      const { sequenceId } = await this.slots.acquire([], 0);
      try {
        return await measurePerplexity({ model, runner, sequenceId, stop }, tokens, options);
      } finally {
        await this.slots.release(sequenceId, undefined);
      }
    });
  }

  /** Counters since load: tokens and rates, the layer cache, the kernels, and each worker's share. */
  async stats(): Promise<ModelStats> {
    this.checkUsable();
    return collectStats(this.core, this.totals);
  }

  /**
   * Connects one more worker (a machine that joined later, or a replacement) to a model that
   * runs on workers: after a HELLO shows it has the same model file, the layers are placed again
   * over every live worker at the next forward pass (sequences in flight are replayed, so their
   * text does not change with an f32 wire). A lost worker that comes back rejoins by itself.
   * @throws OptionError NOT_A_CLUSTER when the model runs in this process, BAD_WORKERS for a bad or known address
   */
  addWorker(address: string): void {
    this.checkUsable();
    const cluster = this.core.cluster;
    if (!cluster) throw new OptionError("NOT_A_CLUSTER", "addWorker: this model runs in this process; load it with workers to add more");
    if (!/^(tcp|ipc):\/\/\S+$/.test(address)) throw new OptionError("BAD_WORKERS", `worker address "${address}" is not a ZeroMQ endpoint such as tcp://host:port`);
    cluster.runner.addWorker(address);
  }

  /** Stops the workers this model started, closes connections and the file. Safe to call twice. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      await this.scheduler.close(new LayerstreamError("DISPOSED", "the model was disposed during the call"));
      await this.slots.clear().catch(() => {});
      await this.core[Symbol.asyncDispose]();
    })();
    return this.disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private checkUsable(): void {
    if (this.disposed) throw new LayerstreamError("DISPOSED", "this model has been disposed");
  }

  private async runCompletion(
    prompt: string | readonly number[],
    options: CompletionOptions,
    emit: (piece: string) => void,
    stop: AbortSignal,
    observer?: CompletionObserver,
  ): Promise<CompletionResult> {
    const { model, runner } = this.core;
    const promptTokens = typeof prompt === "string" ? model.tokenizer.encode(prompt, { addSpecial: options.addBos ?? true, parseSpecial: false }) : [...prompt];
    if (promptTokens.length === 0) promptTokens.push(model.tokenizer.bosId ?? 0);
    const seed = options.seed ?? randomSeed();
    const sampler: TokenSampler = new Sampler(options, createRng(seed));
    const load = this.scheduler.load;
    const { sequenceId, reused } = await this.slots.acquire(promptTokens, load.active + load.waiting);
    const session = new Session(model, runner, sequenceId, { recorder: observer, history: reused });
    let text = "";
    try {
      const generation = new Generation(session, promptTokens.slice(reused.length), {
        maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
        sampler: observer ? observer.wrapSampler(sampler) : sampler,
        ignoreEos: options.ignoreEos,
        stop: stopList(options.stop),
      });
      const timings = await this.scheduler.submit({
        generation,
        signal: options.signal ? AbortSignal.any([options.signal, stop]) : stop,
        callerSignal: options.signal,
        emit: (piece) => {
          text += piece;
          emit(piece);
        },
        onPromptProgress: options.onProgress && ((done) => options.onProgress!({ phase: "prompt", done: reused.length + done, total: promptTokens.length, unit: "tokens" })),
        // a finished sequence stays cached for a later prompt that starts the same way; an aborted one is forgotten
        release: () => this.slots.release(sequenceId, generation.stopReason === "aborted" ? undefined : session.history),
      });
      this.count(timings);
      return completionResult(text, timings, seed, reused.length);
    } catch (error) {
      await this.slots.release(sequenceId, undefined);
      throw error;
    }
  }

  private count(timings: { promptTokens: number; generatedTokens: number; promptSeconds: number; generateSeconds: number }): void {
    const t = this.totals;
    t.completions++;
    t.promptTokens += timings.promptTokens;
    t.generatedTokens += timings.generatedTokens;
    t.promptSeconds += timings.promptSeconds;
    t.generateSeconds += timings.generateSeconds;
  }
}

function rate(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}

function completionResult(text: string, timings: GenerationTimings, seed: number, cachedPromptTokens: number): CompletionResult {
  return {
    text,
    stopReason: timings.stopReason,
    usage: { promptTokens: cachedPromptTokens + timings.promptTokens, completionTokens: timings.generatedTokens, cachedPromptTokens },
    timings: {
      promptSeconds: timings.promptSeconds,
      generateSeconds: timings.generateSeconds,
      promptTokensPerSecond: rate(timings.promptTokens, timings.promptSeconds),
      generatedTokensPerSecond: rate(timings.generatedTokens, timings.generateSeconds),
    },
    seed,
  };
}
