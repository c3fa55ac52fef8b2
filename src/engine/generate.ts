import type { Session } from "./session.js";
import { StreamingDecoder } from "./tokenizer/index.js";

/** Anything that turns logits into a token (the Sampler, or a test double). */
export interface TokenSampler {
  sample(logits: Float32Array, history: readonly number[]): number;
}

export interface GenerateOptions {
  readonly maxTokens: number;
  readonly sampler: TokenSampler;
  /** keep going past end-of-generation tokens */
  readonly ignoreEos?: boolean;
  readonly signal?: AbortSignal;
  /** monotonic clock in milliseconds (injected for tests) */
  readonly nowMs?: () => number;
}

export type StopReason = "eos" | "max-tokens" | "context-full" | "aborted";

export interface GeneratedPiece {
  readonly token: number;
  /** the text this token completes (may be empty while a UTF-8 character is split) */
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
 * yielding text as soon as it forms complete characters. Returns the timings.
 */
export async function* generate(
  session: Session,
  promptTokens: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<GeneratedPiece, GenerationTimings> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const tokenizer = session.model.tokenizer;
  const decoder = new StreamingDecoder(tokenizer);
  const contextSize = session.model.contextSize;

  const promptStart = nowMs();
  let logits = await session.evaluate(promptTokens);
  const promptSeconds = (nowMs() - promptStart) / 1000;

  const generateStart = nowMs();
  let generatedTokens = 0;
  let stopReason: StopReason = "max-tokens";
  while (generatedTokens < options.maxTokens) {
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
    yield { token, text: decoder.push(token) };
    if (generatedTokens >= options.maxTokens) break;
    if (session.position + 1 > contextSize) {
      stopReason = "context-full";
      break;
    }
    logits = await session.evaluate([token]);
  }
  const tail = decoder.flush();
  if (tail) yield { token: -1, text: tail };
  return {
    promptTokens: promptTokens.length,
    promptSeconds,
    generatedTokens,
    generateSeconds: (nowMs() - generateStart) / 1000,
    stopReason,
  };
}
