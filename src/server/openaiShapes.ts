/**
 * Request fields → completion options, and results → the OpenAI response objects: the whole
 * reply (`chat.completion`, `text_completion`) and the streamed chunks of each endpoint.
 */
import { randomUUID } from "node:crypto";
import type { CompletionOptions, CompletionResult, LoadedModel, StopReason } from "../index.js";
import type { SamplingFields } from "./schemas/common.js";

/** What OpenAI calls why a completion ended. */
export function finishReason(stopReason: StopReason): string {
  return stopReason === "max-tokens" || stopReason === "context-full" ? "length" : "stop";
}

/**
 * The request's sampling fields as completion options. Without max_tokens a completion runs to
 * its end of generation or a full context, as OpenAI's and llama.cpp's servers do.
 */
export function completionOptions(body: SamplingFields, model: LoadedModel, signal: AbortSignal, maxTokens?: number | null): CompletionOptions {
  const options: Record<string, unknown> = {
    maxTokens: maxTokens ?? body.max_tokens ?? model.info.contextSize,
    temperature: body.temperature,
    topP: body.top_p,
    topK: body.top_k,
    minP: body.min_p,
    repeatPenalty: body.repeat_penalty,
    repeatLastN: body.repeat_last_n,
    frequencyPenalty: body.frequency_penalty,
    presencePenalty: body.presence_penalty,
    seed: body.seed,
    stop: body.stop,
    ignoreEos: body.ignore_eos,
    signal,
  };
  for (const key of Object.keys(options)) if (options[key] === null || options[key] === undefined) delete options[key];
  return options as CompletionOptions;
}

export function usageOf(result: CompletionResult) {
  const { promptTokens, completionTokens, cachedPromptTokens } = result.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, prompt_tokens_details: { cached_tokens: cachedPromptTokens } };
}

export function timingsOf(result: CompletionResult) {
  const { usage, timings } = result;
  return {
    prompt_n: usage.promptTokens - usage.cachedPromptTokens,
    cache_n: usage.cachedPromptTokens,
    prompt_ms: timings.promptSeconds * 1000,
    prompt_per_second: timings.promptTokensPerSecond,
    predicted_n: usage.completionTokens,
    predicted_ms: timings.generateSeconds * 1000,
    predicted_per_second: timings.generatedTokensPerSecond,
  };
}

/** How one endpoint shapes its answers; the streaming and whole-reply code is shared. */
export interface ResponseShape {
  /** the first event of a stream, before any text (chat: the assistant role) */
  opening(): object | undefined;
  /** a streamed piece of text */
  chunk(text: string): object;
  /** the last streamed event with text: the finish reason */
  finish(result: CompletionResult): object;
  /** the usage event (stream_options.include_usage) */
  usage(result: CompletionResult): object;
  /** the whole reply of a request that is not streamed */
  whole(result: CompletionResult): object;
}

function envelope(prefix: string, object: string, model: string) {
  return { id: `${prefix}-${randomUUID().replaceAll("-", "")}`, object, created: Math.floor(Date.now() / 1000), model };
}

export function chatShape(model: string): ResponseShape {
  const head = envelope("chatcmpl", "chat.completion.chunk", model);
  const chunk = (delta: object, finish: string | null) => ({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  return {
    opening: () => chunk({ role: "assistant", content: "" }, null),
    chunk: (text) => chunk({ content: text }, null),
    finish: (result) => chunk({}, finishReason(result.stopReason)),
    usage: (result) => ({ ...head, choices: [], usage: usageOf(result), timings: timingsOf(result) }),
    whole: (result) => ({
      ...head,
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: result.text }, logprobs: null, finish_reason: finishReason(result.stopReason) }],
      usage: usageOf(result),
      timings: timingsOf(result),
    }),
  };
}

export function textShape(model: string): ResponseShape {
  const head = envelope("cmpl", "text_completion", model);
  const chunk = (text: string, finish: string | null) => ({ ...head, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] });
  return {
    opening: () => undefined,
    chunk: (text) => chunk(text, null),
    finish: (result) => chunk("", finishReason(result.stopReason)),
    usage: (result) => ({ ...head, choices: [], usage: usageOf(result), timings: timingsOf(result) }),
    whole: (result) => ({ ...chunk(result.text, finishReason(result.stopReason)), usage: usageOf(result), timings: timingsOf(result) }),
  };
}
