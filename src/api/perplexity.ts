/**
 * Perplexity of a text, by llama-perplexity's method (llama.cpp's tools/perplexity): the text
 * tokenized whole (BOS in front when the model adds one), cut into chunks of `contextSize`
 * tokens, each chunk evaluated from an empty KV cache with its first token replaced by BOS, and
 * only the second half of each chunk scored — the first half is context. Position i of a chunk,
 * for i in [contextSize/2, contextSize − 1), scores −log p(token i+1 | tokens ≤ i). The passes go
 * through the model's runner (in this process, streamed, or on workers) like any completion's.
 */
import { AbortError, OptionError } from "../engine/errors.js";
import type { Model } from "../engine/model/model.js";
import type { LayerRunner, OutputRows } from "../engine/model/layerRunner.js";
import { DEFAULT_BATCH_SIZE, Session } from "../engine/session.js";
import type { Tokenizer } from "../engine/tokenizer/index.js";
import type { ProgressEvent } from "./options.js";
import { negativeLogLikelihood, NllTotals } from "./perplexityMath.js";

export interface PerplexityOptions {
  /** tokens per chunk (llama-perplexity's --ctx-size); default: the model's context size. At least 4, at most the model's */
  readonly contextSize?: number;
  /** most chunks to evaluate (llama-perplexity's --chunks); default: every whole chunk of the text */
  readonly chunks?: number;
  /** stops between forward passes; the call then rejects with AbortError */
  readonly signal?: AbortSignal;
  /** after each chunk: its number (from 1) and the running perplexity over the chunks so far */
  readonly onChunk?: (chunk: PerplexityChunk) => void;
  /** tokens evaluated so far, of all the chunks' (phase "prompt") */
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface PerplexityChunk {
  /** 1-based, as llama-perplexity prints `[1]…,[2]…` */
  readonly chunk: number;
  readonly chunks: number;
  /** exp(mean nll) over every position scored in chunks 1…chunk */
  readonly perplexity: number;
}

export interface PerplexityResult {
  /** the final estimate: exp(mean negative log-likelihood) over every scored position */
  readonly perplexity: number;
  /** its standard error (llama-perplexity's `+/-`) */
  readonly standardError: number;
  /** the running perplexity after each chunk (llama-perplexity's `[1]…,[2]…` line) */
  readonly chunkPerplexities: readonly number[];
  readonly contextSize: number;
  /** chunks evaluated */
  readonly chunks: number;
  /** the text's tokens, BOS included */
  readonly textTokens: number;
  /** positions scored: chunks × (contextSize − contextSize/2 − 1) */
  readonly scoredTokens: number;
  /** tokens evaluated (chunks × contextSize) per second of forward passes and scoring */
  readonly tokensPerSecond: number;
  readonly seconds: number;
}

/** The model parts a measurement runs on; `sequenceId` is a sequence nobody else uses meanwhile. */
export interface PerplexityTarget {
  readonly model: Model;
  readonly runner: LayerRunner;
  readonly sequenceId: number;
  /** tokens per forward pass (default DEFAULT_BATCH_SIZE) */
  readonly batchSize?: number;
  /** fires when the model is being disposed: the measurement stops with the signal's reason */
  readonly stop?: AbortSignal;
}

/** Rows of the output head computed at once (bounds the logits buffer: rows × nVocab f32). */
const HEAD_ROWS_PER_CALL = 32;
/** Below this, a chunk has no second half to score twice (and the standard error needs two positions). */
export const MIN_PERPLEXITY_CONTEXT = 4;

/** The text's tokens as llama-perplexity takes them: BOS in front when the model adds one, no EOS. */
export function perplexityTokens(tokenizer: Tokenizer, text: string): number[] {
  const tokens = tokenizer.encode(text, { addSpecial: false, parseSpecial: false });
  return tokenizer.addBos && tokenizer.bosId !== undefined ? [tokenizer.bosId, ...tokens] : tokens;
}

/**
 * The chunk size and count for `nTokens` tokens, with the options checked.
 * @throws OptionError BAD_CONTEXT_SIZE, BAD_CHUNKS, TEXT_TOO_SHORT (naming the tokens needed)
 */
export function planChunks(nTokens: number, options: PerplexityOptions, modelContextSize: number): { contextSize: number; chunks: number } {
  const contextSize = options.contextSize ?? modelContextSize;
  if (!Number.isInteger(contextSize) || contextSize < MIN_PERPLEXITY_CONTEXT) {
    throw new OptionError("BAD_CONTEXT_SIZE", `perplexity contextSize ${contextSize} must be an integer of at least ${MIN_PERPLEXITY_CONTEXT}`);
  }
  if (contextSize > modelContextSize) {
    throw new OptionError("BAD_CONTEXT_SIZE", `perplexity contextSize ${contextSize} is larger than the model's context (${modelContextSize}): load it with contextSize ≥ ${contextSize}`);
  }
  if (options.chunks !== undefined && (!Number.isInteger(options.chunks) || options.chunks < 1)) {
    throw new OptionError("BAD_CHUNKS", `chunks ${options.chunks} must be a positive integer`);
  }
  if (nTokens < 2 * contextSize) {
    throw new OptionError("TEXT_TOO_SHORT", `the text is ${nTokens} tokens; perplexity with a context of ${contextSize} needs at least ${2 * contextSize} tokens`);
  }
  const whole = Math.floor(nTokens / contextSize);
  return { contextSize, chunks: Math.min(options.chunks ?? whole, whole) };
}

/**
 * Measures the perplexity of `tokens` (already with BOS, see perplexityTokens) on `target`.
 * The sequence's KV cache is cleared before each chunk and left holding the last one.
 */
export async function measurePerplexity(target: PerplexityTarget, tokens: readonly number[], options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const { contextSize, chunks } = planChunks(tokens.length, options, target.model.contextSize);
  const startMs = performance.now();
  const totals = new NllTotals();
  const chunkPerplexities: number[] = [];
  const bosId = target.model.tokenizer.addBos ? target.model.tokenizer.bosId : undefined;
  for (let c = 0; c < chunks; c++) {
    const chunk = tokens.slice(c * contextSize, (c + 1) * contextSize);
    if (bosId !== undefined) chunk[0] = bosId;
    await scoreChunk(target, chunk, totals, (done) => {
      options.onProgress?.({ phase: "prompt", done: c * contextSize + done, total: chunks * contextSize, unit: "tokens" });
    }, options.signal);
    chunkPerplexities.push(totals.perplexity);
    options.onChunk?.({ chunk: c + 1, chunks, perplexity: totals.perplexity });
  }
  const seconds = (performance.now() - startMs) / 1000;
  return {
    perplexity: totals.perplexity,
    standardError: totals.standardError,
    chunkPerplexities,
    contextSize,
    chunks,
    textTokens: tokens.length,
    scoredTokens: totals.count,
    tokensPerSecond: seconds > 0 ? (chunks * contextSize) / seconds : 0,
    seconds,
  };
}

/** One chunk from an empty KV cache, in passes of at most batchSize tokens; its second half's nll go into `totals`. */
async function scoreChunk(target: PerplexityTarget, chunk: readonly number[], totals: NllTotals, onPass: (tokensDone: number) => void, signal?: AbortSignal): Promise<void> {
  const { model, runner, sequenceId } = target;
  await runner.truncate(sequenceId, 0);
  const session = new Session(model, runner, sequenceId, { batchSize: target.batchSize ?? DEFAULT_BATCH_SIZE });
  const first = Math.floor(chunk.length / 2);
  const lastScored = chunk.length - 1; // the last position has no next token to score
  for (let start = 0; start < chunk.length; start += session.batchSize) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve)); // lets signals in between passes
    if (target.stop?.aborted) throw target.stop.reason;
    if (signal?.aborted) throw new AbortError("the perplexity measurement was aborted");
    const passTokens = chunk.slice(start, start + session.batchSize);
    const from = Math.max(first, start);
    const to = Math.min(start + passTokens.length, lastScored);
    const hidden = await passRows(session, passTokens, to > from ? "all" : "last");
    if (to > from) scoreRows(model, hidden.subarray((from - start) * model.hparams.nEmbd, (to - start) * model.hparams.nEmbd), chunk.slice(from + 1, to + 1), totals);
    onPass(start + passTokens.length);
  }
}

/** One forward pass of the session through every layer; the final hidden states of the rows asked for. */
async function passRows(session: Session, tokens: readonly number[], rows: OutputRows): Promise<Float32Array> {
  const batch = session.prepare(tokens);
  const [out] = await session.runner.run([batch], { from: 0, to: session.model.hparams.nLayer }, { rows, recorder: session.passRecorder });
  session.commit(tokens);
  return out;
}

/**
 * The output head over hidden rows, and each row's nll of the token after it.
 * @param hidden f32 [targets.length, nEmbd]
 * @param targets the token each row predicts
 */
function scoreRows(model: Model, hidden: Float32Array, targets: readonly number[], totals: NllTotals): void {
  const { nEmbd, nVocab } = model.hparams;
  const logits = new Float32Array(Math.min(HEAD_ROWS_PER_CALL, targets.length) * nVocab);
  for (let from = 0; from < targets.length; from += HEAD_ROWS_PER_CALL) {
    const n = Math.min(HEAD_ROWS_PER_CALL, targets.length - from);
    const rows = Array.from({ length: n }, (_, r) => hidden.subarray((from + r) * nEmbd, (from + r + 1) * nEmbd));
    const outs = Array.from({ length: n }, (_, r) => logits.subarray(r * nVocab, (r + 1) * nVocab));
    model.logitsMany(rows, outs);
    for (let r = 0; r < n; r++) totals.add(negativeLogLikelihood(outs[r], targets[from + r]));
  }
}
