import { LayerstreamError } from "../errors.js";

/** Which sampler option was out of range (also the key in `SamplerOptions`). */
export type SamplerOptionName =
  | "temperature"
  | "topK"
  | "topP"
  | "minP"
  | "repeatPenalty"
  | "repeatLastN"
  | "frequencyPenalty"
  | "presencePenalty";

/**
 * A sampler option is out of range, e.g. `topP` 1.5.
 * The message is one line naming the option, the accepted range and the value given.
 */
export class SamplerOptionsError extends LayerstreamError {
  declare readonly code: "BAD_SAMPLER_OPTION";

  constructor(
    readonly option: SamplerOptionName,
    readonly value: unknown,
    expected: string,
  ) {
    super("BAD_SAMPLER_OPTION", `sampler option ${option} must be ${expected}, got ${String(value)}`);
  }
}

/** The logits handed to `Sampler.sample` cannot be sampled from (empty vector). */
export class SamplerInputError extends LayerstreamError {
  declare readonly code: "EMPTY_LOGITS";

  constructor(message: string) {
    super("EMPTY_LOGITS", message);
  }
}
