import { SamplerOptionsError } from "./errors.js";

/**
 * Sampling settings, named and defaulted as llama.cpp's `common_params_sampling`.
 * Each filter has an "off" value, noted per field.
 */
export interface SamplerOptions {
  /** softmax temperature; 0 = greedy (argmax of the penalized logits) */
  readonly temperature: number;
  /** keep the k most likely tokens; 0 = off */
  readonly topK: number;
  /** keep the smallest set of most likely tokens whose probability sum reaches p; 1 = off */
  readonly topP: number;
  /** drop tokens less likely than minP times the most likely one; 0 = off */
  readonly minP: number;
  /** divide positive / multiply negative logits of recent tokens by this; 1 = off */
  readonly repeatPenalty: number;
  /** how many of the most recent history tokens the penalties look at; 0 = off, -1 = all */
  readonly repeatLastN: number;
  /** subtracted from a recent token's logit once per occurrence; 0 = off */
  readonly frequencyPenalty: number;
  /** subtracted once from the logit of any token that occurs recently; 0 = off */
  readonly presencePenalty: number;
}

/** llama.cpp's defaults (common/common.h). */
export const DEFAULT_SAMPLER_OPTIONS: Readonly<SamplerOptions> = Object.freeze({
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.0,
  repeatLastN: 64,
  frequencyPenalty: 0.0,
  presencePenalty: 0.0,
});

/**
 * Fills in defaults and checks every option's range.
 * @throws SamplerOptionsError (code BAD_SAMPLER_OPTION) naming the first bad option
 */
export function resolveSamplerOptions(options: Partial<SamplerOptions> = {}): Readonly<SamplerOptions> {
  const resolved: SamplerOptions = { ...DEFAULT_SAMPLER_OPTIONS };
  for (const key of Object.keys(DEFAULT_SAMPLER_OPTIONS) as (keyof SamplerOptions)[]) {
    const value = options[key];
    if (value !== undefined) {
      (resolved as { -readonly [K in keyof SamplerOptions]: number })[key] = value;
    }
  }
  const { temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty } = resolved;

  check("temperature", temperature, isFiniteNumber(temperature) && temperature >= 0, ">= 0 (0 = greedy)");
  check("topK", topK, Number.isInteger(topK) && topK >= 0, "an integer >= 0 (0 = off)");
  check("topP", topP, isFiniteNumber(topP) && topP > 0 && topP <= 1, "in (0, 1] (1 = off)");
  check("minP", minP, isFiniteNumber(minP) && minP >= 0 && minP <= 1, "in [0, 1] (0 = off)");
  check("repeatPenalty", repeatPenalty, isFiniteNumber(repeatPenalty) && repeatPenalty > 0, "> 0 (1 = off)");
  check("repeatLastN", repeatLastN, Number.isInteger(repeatLastN) && repeatLastN >= -1, "an integer >= -1 (0 = off, -1 = all)");
  check("frequencyPenalty", frequencyPenalty, isFiniteNumber(frequencyPenalty), "a finite number (0 = off)");
  check("presencePenalty", presencePenalty, isFiniteNumber(presencePenalty), "a finite number (0 = off)");

  return Object.freeze(resolved);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function check(option: keyof SamplerOptions, value: unknown, ok: boolean, expected: string): void {
  if (!ok) {
    throw new SamplerOptionsError(option, value, expected);
  }
}
