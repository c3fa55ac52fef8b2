import type { Session } from "./session.js";
import { StreamingDecoder } from "./tokenizer/index.js";
import { StopMatcher } from "./stopStrings.js";
import { AbortError } from "./errors.js";

/** Anything that turns logits into a token (the Sampler, or a test double). */
export interface TokenSampler {
  sample(logits: Float32Array, history: readonly number[]): number;
}

export interface GenerateOptions {
  readonly maxTokens: number;
  readonly sampler: TokenSampler;
  /** keep going past end-of-generation tokens */
  readonly ignoreEos?: boolean;
  /** generation ends before the first of these strings; the string is not yielded */
  readonly stop?: readonly string[];
  /** checked before every token and every prompt pass: generation then ends with stopReason "aborted" */
  readonly signal?: AbortSignal;
  /** prompt evaluation progress, after every forward pass of the prompt */
  readonly onPromptProgress?: (tokensDone: number, tokensTotal: number) => void;
  /** monotonic clock in milliseconds (injected for tests) */
  readonly nowMs?: () => number;
}

/** Why a generation ended: an end-of-generation token, maxTokens, a stop string, a full context, or an abort. */
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

/**
 * Evaluates the prompt as one batch, then samples and evaluates one token at a time,
 * yielding text as soon as it forms complete characters and cannot be the start of a stop
 * string. Returns the timings. An abort (between forward passes) ends it with stopReason
 * "aborted", the text so far yielded.
 */
export async function* generate(
  session: Session,
  promptTokens: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<GeneratedPiece, GenerationTimings> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const tokenizer = session.model.tokenizer;
  const decoder = new StreamingDecoder(tokenizer);
  const stops = new StopMatcher(options.stop ?? []);
  const contextSize = session.model.contextSize;

  const promptStart = nowMs();
  let logits: Float32Array;
  try {
    logits = await session.evaluate(promptTokens, { signal: options.signal, onProgress: options.onPromptProgress });
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
    return { promptTokens: promptTokens.length, promptSeconds: (nowMs() - promptStart) / 1000, generatedTokens: 0, generateSeconds: 0, stopReason: "aborted" };
  }
  const promptSeconds = (nowMs() - promptStart) / 1000;

  const generateStart = nowMs();
  let generatedTokens = 0;
  let stopReason: StopReason = "max-tokens";
  while (generatedTokens < options.maxTokens) {
    // A local forward pass never waits for I/O, so without this the loop would never let the
    // event loop run: no signal handler (Ctrl-C), no closed-pipe error, no other caller's timer.
    await yieldToEventLoop();
    if (options.signal?.aborted) {
      stopReason = "aborted";
      break;
    }
    const token = options.sampler.sample(logits, session.history);
    if (!options.ignoreEos && tokenizer.isEog(token)) {
      stopReason = "eos";
      break;
    }
    generatedTokens++;
    yield { token, text: stops.push(decoder.push(token)) };
    if (stops.stopped) {
      stopReason = "stop";
      break;
    }
    if (generatedTokens >= options.maxTokens) break;
    if (session.position + 1 > contextSize) {
      stopReason = "context-full";
      break;
    }
    logits = await session.evaluate([token]);
  }
  const tail = stops.push(decoder.flush()) + stops.flush();
  if (tail) yield { token: -1, text: tail };
  return {
    promptTokens: promptTokens.length,
    promptSeconds,
    generatedTokens,
    generateSeconds: (nowMs() - generateStart) / 1000,
    stopReason,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
