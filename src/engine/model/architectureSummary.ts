/**
 * One line on what an architecture's blocks do differently from llama's, and which RoPE
 * frequency factors the file carries: the `features` row of `layerstream inspect`.
 */
import type { GgufFile } from "../gguf/types.js";
import { ARCHITECTURES, describeTraits } from "./hparams.js";

/** Per-pair RoPE divisor tensors, by name, and what they mean. */
const ROPE_FACTOR_TENSORS: readonly (readonly [string, string])[] = [
  ["rope_freqs.weight", "rope_freqs (Llama 3.1 RoPE scaling)"],
  ["rope_factors_short.weight", "rope_factors_short/long (LongRoPE)"],
];

/**
 * e.g. "NeoX RoPE, per-head Q/K RMS norms" for qwen3, "normal RoPE, rope_freqs (Llama 3.1 RoPE
 * scaling)" for Llama 3.1; "not supported (supported: …)" for another architecture; undefined
 * without `general.architecture`.
 */
export function architectureFeatures(file: GgufFile, architecture: string | undefined): string | undefined {
  if (architecture === undefined) return undefined;
  const traits = ARCHITECTURES.get(architecture);
  if (!traits) return `not supported (supported: ${[...ARCHITECTURES.keys()].join(", ")})`;
  const factors = ROPE_FACTOR_TENSORS.filter(([name]) => file.tensorsByName.has(name)).map(([, label]) => label);
  return [describeTraits(traits), ...factors].join(", ");
}
