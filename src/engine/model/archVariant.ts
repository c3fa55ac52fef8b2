/**
 * The numbers some architectures add to llama's block, read per architecture (llama.cpp's
 * `load_arch_hparams` in src/models/<arch>.cpp): a query pre-scale (phi3, gemma), attention and
 * final logit soft-capping (gemma2), embedding scaling (gemma) and sliding-window layers with
 * their own RoPE base (gemma2, gemma3).
 */
import type { GgufFile } from "../gguf/types.js";
import { GgufValueType, type GgufArray } from "../gguf/types.js";
import { optionalNumber } from "../gguf/metadata.js";
import { ModelFormatError } from "../errors.js";
import type { RopeParams } from "./hparams.js";

/** Layers that attend only to the last `size` positions (LLAMA_SWA_TYPE_STANDARD: key p0 is masked for query p1 when p1 − p0 ≥ size). */
export interface SlidingWindow {
  readonly size: number;
  /** per layer: true when it uses the window (and `rope`) */
  readonly isSwa: readonly boolean[];
  /** RoPE of the sliding-window layers (their own base: rope.freq_base_swa) */
  readonly rope: RopeParams;
}

export interface ArchVariant {
  /** Q is multiplied by this (f32) after RoPE and attention scales Q·K by 1 (phi3, gemma) */
  readonly queryScale?: number;
  /** Q·K = cap · tanh(Q·K / cap) before softmax (gemma2) */
  readonly attnSoftCap?: number;
  /** logits = cap · tanh(logits / cap) (gemma2; gemma3 when set) */
  readonly finalSoftCap?: number;
  /** embeddings are multiplied by this (f32 √nEmbd, gemma) */
  readonly embedScale?: number;
  readonly slidingWindow?: SlidingWindow;
}

/** What a variant reader sees: the file, the prefixed key maker and the shape read so far. */
export interface VariantInput {
  readonly file: GgufFile;
  readonly key: (name: string) => string;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly headDim: number;
  readonly rope: RopeParams;
}

const f32 = Math.fround;
/** 1.0f / sqrtf(x) */
const invSqrtF32 = (x: number) => f32(1 / f32(Math.sqrt(x)));

/** gemma_pytorch's query scale: 1/√(nEmbd/nHead) for the 27B models (nLayer 46 gemma2, 62 gemma3), else 1/√headDim. */
function gemmaQueryScale(input: VariantInput, layers27b: number): number {
  const { nEmbd, nHead, nLayer, headDim } = input;
  return nLayer === layers27b ? invSqrtF32(Math.floor(nEmbd / nHead)) : invSqrtF32(headDim);
}

/** Which layers slide: `attention.sliding_window_pattern` as a per-layer bool array, or n (layer il slides unless il % n == n − 1). */
function swaLayers(input: VariantInput, defaultPattern: number): boolean[] {
  const entry = input.file.metadata.get(input.key("attention.sliding_window_pattern"));
  if (entry?.type === GgufValueType.ARRAY) {
    const items = (entry.value as GgufArray).items.map((v) => v === true);
    if (items.length !== input.nLayer) throw new ModelFormatError("BAD_HPARAM", `${input.key("attention.sliding_window_pattern")} has ${items.length} entries, expected ${input.nLayer}`);
    return items;
  }
  const n = optionalNumber(input.file, input.key("attention.sliding_window_pattern")) ?? defaultPattern;
  if (!Number.isInteger(n) || n < 0) throw new ModelFormatError("BAD_HPARAM", `${input.key("attention.sliding_window_pattern")} = ${n} must be a non-negative integer`);
  return Array.from({ length: input.nLayer }, (_, il) => n === 0 || il % n < n - 1);
}

function slidingWindow(input: VariantInput, size: number, defaultPattern: number, swaRope: Partial<RopeParams>): SlidingWindow {
  if (!Number.isInteger(size) || size < 1) throw new ModelFormatError("BAD_HPARAM", `${input.key("attention.sliding_window")} = ${size} must be a positive integer`);
  return { size, isSwa: swaLayers(input, defaultPattern), rope: { ...input.rope, ...swaRope } };
}

function positive(input: VariantInput, name: string, fallback: number): number {
  const value = optionalNumber(input.file, input.key(name)) ?? fallback;
  if (!(Number.isFinite(value) && value >= 0)) throw new ModelFormatError("BAD_HPARAM", `${input.key(name)} = ${value} must be a finite number ≥ 0`);
  return value;
}

function readGemma2(input: VariantInput): ArchVariant {
  const freqBaseSwa = positive(input, "rope.freq_base_swa", input.rope.freqBase);
  return {
    queryScale: gemmaQueryScale(input, 46),
    attnSoftCap: positive(input, "attn_logit_softcapping", 50) || undefined,
    finalSoftCap: positive(input, "final_logit_softcapping", 30) || undefined,
    embedScale: f32(Math.sqrt(input.nEmbd)),
    slidingWindow: slidingWindow(input, positive(input, "attention.sliding_window", 4096), 2, { freqBase: freqBaseSwa }),
  };
}

function readGemma3(input: VariantInput): ArchVariant {
  const size = positive(input, "attention.sliding_window", 0);
  const window = size > 0 ? slidingWindow(input, size, 6, { freqBase: positive(input, "rope.freq_base_swa", 10000), freqScale: 1 }) : undefined;
  return {
    queryScale: gemmaQueryScale(input, 62),
    finalSoftCap: positive(input, "final_logit_softcapping", 0) || undefined,
    embedScale: f32(Math.sqrt(input.nEmbd)),
    slidingWindow: window,
  };
}

/** Variant readers keyed by architecture; an architecture without one is plain llama. */
const VARIANT_READERS: Readonly<Record<string, (input: VariantInput) => ArchVariant>> = {
  phi3: (input) => ({ queryScale: invSqrtF32(input.headDim) }),
  gemma2: readGemma2,
  gemma3: readGemma3,
};

export function readArchVariant(architecture: string, input: VariantInput): ArchVariant {
  return VARIANT_READERS[architecture]?.(input) ?? {};
}
