import type { GgufFile } from "../gguf/types.js";
import { optionalNumber, optionalString, getString, getNumber } from "../gguf/metadata.js";
import { ModelFormatError, UnsupportedArchitectureError } from "../errors.js";
import { readArchVariant, type ArchVariant } from "./archVariant.js";

/** How RoPE pairs dimensions: `norm` rotates (2i, 2i+1) (llama), `neox` rotates (i, i + nRot/2) (qwen2, qwen3, phi3). */
export type RopeLayout = "norm" | "neox";

/** What sets an architecture's block apart from llama's (llama.cpp's src/models/<arch>.cpp). */
export interface ArchitectureTraits {
  readonly ropeLayout: RopeLayout;
  /** attn_q/k/v carry bias vectors */
  readonly hasQkvBias: boolean;
  /** per-head RMS norms of Q and K (`attn_q_norm`, `attn_k_norm`, f32 [headDim]) before RoPE (qwen3) */
  readonly qkNorm: boolean;
  /** gate and up in one `ffn_up` [nEmbd, 2·nFf] (gate rows first); Q/K/V may be one `attn_qkv` (phi3) */
  readonly fusedFfnUp: boolean;
  /** `attn_post_norm` and `ffn_post_norm` (f32 [nEmbd]) on each half's output before its residual add (gemma2, gemma3) */
  readonly postNorms: boolean;
  /** the feed-forward gate's activation: SiLU (SwiGLU) or tanh-approximated GELU (GeGLU, gemma) */
  readonly ffnActivation: "silu" | "gelu";
  /** the output head is always the token embeddings, even when output.weight exists (gemma2) */
  readonly alwaysTied: boolean;
}

const LLAMA_TRAITS: ArchitectureTraits = { ropeLayout: "norm", hasQkvBias: false, qkNorm: false, fusedFfnUp: false, postNorms: false, ffnActivation: "silu", alwaysTied: false };
const GEMMA_TRAITS: ArchitectureTraits = { ...LLAMA_TRAITS, ropeLayout: "neox", postNorms: true, ffnActivation: "gelu" };

/** The architectures we run, keyed by `general.architecture`. */
export const ARCHITECTURES: ReadonlyMap<string, ArchitectureTraits> = new Map([
  ["llama", LLAMA_TRAITS],
  ["qwen2", { ...LLAMA_TRAITS, ropeLayout: "neox", hasQkvBias: true }],
  ["qwen3", { ...LLAMA_TRAITS, ropeLayout: "neox", qkNorm: true }],
  ["phi3", { ...LLAMA_TRAITS, ropeLayout: "neox", fusedFfnUp: true }],
  ["gemma2", { ...GEMMA_TRAITS, alwaysTied: true }],
  ["gemma3", { ...GEMMA_TRAITS, qkNorm: true }],
]);

/** One line naming an architecture's specifics (for `inspect` and model descriptions). */
export function describeTraits(traits: ArchitectureTraits): string {
  const parts = [`${traits.ropeLayout === "neox" ? "NeoX" : "normal"} RoPE`];
  if (traits.hasQkvBias) parts.push("Q/K/V biases");
  if (traits.qkNorm) parts.push("per-head Q/K RMS norms");
  if (traits.fusedFfnUp) parts.push("fused gate+up (and Q/K/V) weights");
  if (traits.postNorms) parts.push("post-attention and post-feed-forward norms");
  if (traits.ffnActivation === "gelu") parts.push("GeGLU feed-forward");
  return parts.join(", ");
}

/** `longrope` (phi3 128k) scales like `linear`; its per-pair factors are tensors (see ropeFactorsTensor) */
export type RopeScalingType = "none" | "linear" | "yarn" | "longrope";

export interface RopeParams {
  readonly layout: RopeLayout;
  /** number of leading dimensions of each head that are rotated */
  readonly nRot: number;
  readonly freqBase: number;
  /** 1 / linear scaling factor */
  readonly freqScale: number;
  readonly scalingType: RopeScalingType;
  /** context length the model was trained with before scaling (YaRN) */
  readonly nCtxOrig: number;
  /** YaRN extrapolation mix (0 = off) */
  readonly extFactor: number;
  readonly attnFactor: number;
  readonly betaFast: number;
  readonly betaSlow: number;
}

/** Hyper-parameters of a decoder-only transformer (names follow the glossary in src/engine/README.md). */
export interface ModelHparams {
  readonly architecture: string;
  readonly traits: ArchitectureTraits;
  readonly nVocab: number;
  readonly nCtxTrain: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  readonly nFf: number;
  readonly rmsEps: number;
  readonly rope: RopeParams;
  /** query pre-scale, soft-capping, embedding scale, sliding-window layers (phi3, gemma2, gemma3) */
  readonly variant: ArchVariant;
}

/** Most positions a context may hold (2^24: above every released model's, below what a KV cache index or the kernels' int32 shapes can take). */
export const MAX_CONTEXT_SIZE = 2 ** 24;
/** Bounds on sizes read from a file: far above real models, far below what overflows an allocation or a kernel's shape. */
const MAX_LAYERS = 4096;
const MAX_WIDTH = 2 ** 20;
const MAX_HEADS = 65535;

/** Reads and checks the hyper-parameters of a llama-family model: every number is range-checked here, with a one-line error. */
export function readHparams(file: GgufFile): ModelHparams {
  const architecture = getString(file, "general.architecture");
  const traits = ARCHITECTURES.get(architecture);
  if (!traits) throw new UnsupportedArchitectureError(architecture, [...ARCHITECTURES.keys()]);
  const key = (name: string) => `${architecture}.${name}`;

  const nEmbd = intIn(file, key("embedding_length"), 1, MAX_WIDTH);
  const nLayer = intIn(file, key("block_count"), 1, MAX_LAYERS);
  const nHead = intIn(file, key("attention.head_count"), 1, MAX_HEADS);
  const nHeadKv = intIn(file, key("attention.head_count_kv"), 1, MAX_HEADS, nHead);
  const nFf = intIn(file, key("feed_forward_length"), 1, 4 * MAX_WIDTH);
  const nCtxTrain = intIn(file, key("context_length"), 1, MAX_CONTEXT_SIZE, 2048);
  const headDim = optionalNumber(file, key("attention.key_length")) ?? nEmbd / nHead;
  const rmsEps = optionalNumber(file, key("attention.layer_norm_rms_epsilon")) ?? 1e-5;
  const embd = file.tensorsByName.get("token_embd.weight");
  if (!embd) throw new ModelFormatError("MISSING_TENSOR", `missing tensor "token_embd.weight"`);
  const nVocab = embd.dims[1] ?? 0;

  if (!Number.isInteger(headDim) || headDim <= 0 || headDim > MAX_HEADS || headDim % 2 !== 0) {
    throw new ModelFormatError("BAD_HPARAM", `head dimension ${headDim} (embedding ${nEmbd} / heads ${nHead}) must be a positive even integer ≤ ${MAX_HEADS}`);
  }
  if (nHead % nHeadKv !== 0) throw new ModelFormatError("BAD_HPARAM", `head_count_kv ${nHeadKv} must divide head_count ${nHead}`);
  if (!(rmsEps > 0 && rmsEps < 1)) throw new ModelFormatError("BAD_HPARAM", `${key("attention.layer_norm_rms_epsilon")} = ${rmsEps} must be in (0, 1)`);
  if (!(nVocab >= 1 && nVocab < 2 ** 31)) throw new ModelFormatError("BAD_HPARAM", `token_embd.weight has ${nVocab} rows: the vocabulary must hold 1 to 2^31 − 1 tokens`);

  const rope = readRope(file, architecture, traits, headDim, nCtxTrain);
  return {
    architecture,
    traits,
    nVocab,
    nCtxTrain,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDim,
    nFf,
    rmsEps,
    rope,
    variant: readArchVariant(architecture, { file, key, nEmbd, nHead, nLayer, headDim, rope }),
  };
}

function readRope(file: GgufFile, architecture: string, traits: ArchitectureTraits, headDim: number, nCtxTrain: number): RopeParams {
  const key = (name: string) => `${architecture}.${name}`;
  const nRot = optionalNumber(file, key("rope.dimension_count")) ?? headDim;
  if (!Number.isInteger(nRot) || nRot <= 0 || nRot > headDim || nRot % 2 !== 0) {
    throw new ModelFormatError("BAD_HPARAM", `rope.dimension_count ${nRot} must be an even integer in [2, ${headDim}]`);
  }
  const freqBase = finiteIn(file, key("rope.freq_base"), 10000, { above: 0 });
  const scalingName = optionalString(file, key("rope.scaling.type")) ?? "none";
  let scalingType: RopeScalingType;
  if (scalingName === "none" || scalingName === "linear" || scalingName === "yarn" || scalingName === "longrope") scalingType = scalingName;
  else throw new ModelFormatError("UNSUPPORTED_ROPE_SCALING", `unsupported rope scaling "${scalingName}" (supported: none, linear, yarn, longrope)`);
  // llama.cpp: the factor comes from rope.scaling.factor, or the older rope.scale_linear
  const factorKey = file.metadata.has(key("rope.scaling.factor")) ? key("rope.scaling.factor") : key("rope.scale_linear");
  const factor = finiteIn(file, factorKey, 0, { atLeast: 0 });
  const freqScale = scalingType !== "none" && factor > 0 ? 1 / factor : 1;
  const nCtxOrig = intIn(file, key("rope.scaling.original_context_length"), 1, MAX_CONTEXT_SIZE, nCtxTrain);
  const isYarn = scalingType === "yarn";
  return {
    layout: traits.ropeLayout,
    nRot,
    freqBase,
    freqScale,
    scalingType,
    nCtxOrig,
    extFactor: isYarn ? 1 : 0,
    attnFactor: finiteIn(file, key("rope.scaling.attn_factor"), 1, { above: 0 }),
    betaFast: finiteIn(file, key("rope.scaling.yarn_beta_fast"), 32, {}),
    betaSlow: finiteIn(file, key("rope.scaling.yarn_beta_slow"), 1, {}),
  };
}

/** An integer metadata value in [min, max]; `fallback` when absent (required when no fallback is given). */
function intIn(file: GgufFile, key: string, min: number, max: number, fallback?: number): number {
  const value = fallback === undefined ? getNumber(file, key) : (optionalNumber(file, key) ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new ModelFormatError("BAD_HPARAM", `${key} = ${value} must be an integer in [${min}, ${max}]`);
  return value;
}

/** A finite metadata value, above (or at least) a bound; `fallback` when absent. */
function finiteIn(file: GgufFile, key: string, fallback: number, bound: { above?: number; atLeast?: number }): number {
  const value = optionalNumber(file, key) ?? fallback;
  const ok = Number.isFinite(value) && (bound.above === undefined || value > bound.above) && (bound.atLeast === undefined || value >= bound.atLeast);
  if (!ok) {
    const wanted = bound.above !== undefined ? `a finite number > ${bound.above}` : bound.atLeast !== undefined ? `a finite number ≥ ${bound.atLeast}` : "a finite number";
    throw new ModelFormatError("BAD_HPARAM", `${key} = ${value} must be ${wanted}`);
  }
  return value;
}
