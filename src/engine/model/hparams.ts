import type { GgufFile } from "../gguf/types.js";
import { optionalNumber, optionalString, getString, getNumber } from "../gguf/metadata.js";
import { ModelFormatError, UnsupportedArchitectureError } from "../errors.js";

/** How RoPE pairs dimensions: `norm` rotates (2i, 2i+1) (llama), `neox` rotates (i, i + nRot/2) (qwen2). */
export type RopeLayout = "norm" | "neox";

export interface ArchitectureTraits {
  readonly ropeLayout: RopeLayout;
  /** attn_q/k/v carry bias vectors */
  readonly hasQkvBias: boolean;
}

/** The architectures we run, keyed by `general.architecture`. */
export const ARCHITECTURES: ReadonlyMap<string, ArchitectureTraits> = new Map([
  ["llama", { ropeLayout: "norm", hasQkvBias: false }],
  ["qwen2", { ropeLayout: "neox", hasQkvBias: true }],
]);

export type RopeScalingType = "none" | "linear" | "yarn";

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
}

/** Reads and checks the hyper-parameters of a llama-family model. */
export function readHparams(file: GgufFile): ModelHparams {
  const architecture = getString(file, "general.architecture");
  const traits = ARCHITECTURES.get(architecture);
  if (!traits) throw new UnsupportedArchitectureError(architecture, [...ARCHITECTURES.keys()]);
  const key = (name: string) => `${architecture}.${name}`;

  const nEmbd = positiveInt(file, key("embedding_length"));
  const nLayer = positiveInt(file, key("block_count"));
  const nHead = positiveInt(file, key("attention.head_count"));
  const nHeadKv = optionalNumber(file, key("attention.head_count_kv")) ?? nHead;
  const nFf = positiveInt(file, key("feed_forward_length"));
  const nCtxTrain = optionalNumber(file, key("context_length")) ?? 2048;
  const headDim = optionalNumber(file, key("attention.key_length")) ?? nEmbd / nHead;
  const rmsEps = optionalNumber(file, key("attention.layer_norm_rms_epsilon")) ?? 1e-5;
  const embd = file.tensorsByName.get("token_embd.weight");
  if (!embd) throw new ModelFormatError("MISSING_TENSOR", `missing tensor "token_embd.weight"`);
  const nVocab = embd.dims[1] ?? 0;

  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new ModelFormatError("BAD_HPARAM", `head dimension ${headDim} (embedding ${nEmbd} / heads ${nHead}) must be a positive even integer`);
  }
  if (!Number.isInteger(nHeadKv) || nHeadKv <= 0 || nHead % nHeadKv !== 0) {
    throw new ModelFormatError("BAD_HPARAM", `head_count_kv ${nHeadKv} must divide head_count ${nHead}`);
  }
  if (!(rmsEps > 0)) throw new ModelFormatError("BAD_HPARAM", `layer_norm_rms_epsilon ${rmsEps} must be > 0`);

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
    rope: readRope(file, architecture, traits, headDim, nCtxTrain),
  };
}

function readRope(file: GgufFile, architecture: string, traits: ArchitectureTraits, headDim: number, nCtxTrain: number): RopeParams {
  const key = (name: string) => `${architecture}.${name}`;
  const nRot = optionalNumber(file, key("rope.dimension_count")) ?? headDim;
  if (!Number.isInteger(nRot) || nRot <= 0 || nRot > headDim || nRot % 2 !== 0) {
    throw new ModelFormatError("BAD_HPARAM", `rope.dimension_count ${nRot} must be an even integer in [2, ${headDim}]`);
  }
  const freqBase = optionalNumber(file, key("rope.freq_base")) ?? 10000;
  const scalingName = optionalString(file, key("rope.scaling.type")) ?? "none";
  let scalingType: RopeScalingType;
  if (scalingName === "none" || scalingName === "linear" || scalingName === "yarn") scalingType = scalingName;
  else throw new ModelFormatError("UNSUPPORTED_ROPE_SCALING", `unsupported rope scaling "${scalingName}" (supported: none, linear, yarn)`);
  // llama.cpp: the factor comes from rope.scaling.factor, or the older rope.scale_linear
  const factor = optionalNumber(file, key("rope.scaling.factor")) ?? optionalNumber(file, key("rope.scale_linear")) ?? 0;
  const freqScale = scalingType !== "none" && factor > 0 ? 1 / factor : 1;
  const nCtxOrig = optionalNumber(file, key("rope.scaling.original_context_length")) ?? nCtxTrain;
  const isYarn = scalingType === "yarn";
  return {
    layout: traits.ropeLayout,
    nRot,
    freqBase,
    freqScale,
    scalingType,
    nCtxOrig,
    extFactor: isYarn ? 1 : 0,
    attnFactor: optionalNumber(file, key("rope.scaling.attn_factor")) ?? 1,
    betaFast: optionalNumber(file, key("rope.scaling.yarn_beta_fast")) ?? 32,
    betaSlow: optionalNumber(file, key("rope.scaling.yarn_beta_slow")) ?? 1,
  };
}

function positiveInt(file: GgufFile, key: string): number {
  const value = getNumber(file, key);
  if (!Number.isInteger(value) || value <= 0) throw new ModelFormatError("BAD_HPARAM", `${key} = ${value} must be a positive integer`);
  return value;
}
