/**
 * Which type each tensor gets when a model is quantized, following llama.cpp's `llama-quantize`
 * (`src/llama-quant.cpp`: `tensor_allows_quantization`, `llama_tensor_get_type_impl`,
 * `tensor_type_fallback`), restricted to the file types layerstream can compute with.
 * Not covered: importance matrices, per-tensor overrides, the IQ1/IQ2/IQ3/TQ/MXFP4 mixes and
 * llama.cpp's 70B-model rule (Q3_K/Q4_K `attn_v` → Q5_K when the model is detected as 70B).
 */
import { GGML_TYPE_TRAITS, GgmlType } from "../ggml/types.js";

/** A llama.cpp file type (`llama_ftype`) layerstream can write: its name, number and default tensor type. */
export interface QuantFileType {
  readonly name: string;
  /** `general.file_type` as llama.cpp numbers it */
  readonly ftype: number;
  readonly defaultType: GgmlType;
}

const FILE_TYPES: readonly QuantFileType[] = [
  { name: "F32", ftype: 0, defaultType: GgmlType.F32 },
  { name: "F16", ftype: 1, defaultType: GgmlType.F16 },
  { name: "BF16", ftype: 32, defaultType: GgmlType.BF16 },
  { name: "Q8_0", ftype: 7, defaultType: GgmlType.Q8_0 },
  { name: "Q4_0", ftype: 2, defaultType: GgmlType.Q4_0 },
  { name: "Q4_1", ftype: 3, defaultType: GgmlType.Q4_1 },
  { name: "Q5_0", ftype: 8, defaultType: GgmlType.Q5_0 },
  { name: "Q5_1", ftype: 9, defaultType: GgmlType.Q5_1 },
  { name: "IQ4_NL", ftype: 25, defaultType: GgmlType.IQ4_NL },
  { name: "Q2_K", ftype: 10, defaultType: GgmlType.Q2_K },
  { name: "Q3_K_S", ftype: 11, defaultType: GgmlType.Q3_K },
  { name: "Q3_K_M", ftype: 12, defaultType: GgmlType.Q3_K },
  { name: "Q3_K_L", ftype: 13, defaultType: GgmlType.Q3_K },
  { name: "Q4_K_S", ftype: 14, defaultType: GgmlType.Q4_K },
  { name: "Q4_K_M", ftype: 15, defaultType: GgmlType.Q4_K },
  { name: "Q5_K_S", ftype: 16, defaultType: GgmlType.Q5_K },
  { name: "Q5_K_M", ftype: 17, defaultType: GgmlType.Q5_K },
  { name: "Q6_K", ftype: 18, defaultType: GgmlType.Q6_K },
  { name: "IQ4_XS", ftype: 30, defaultType: GgmlType.IQ4_XS },
];

/** llama-quantize's aliases: Q3_K is Q3_K_M, Q4_K is Q4_K_M, Q5_K is Q5_K_M. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["Q3_K", "Q3_K_M"],
  ["Q4_K", "Q4_K_M"],
  ["Q5_K", "Q5_K_M"],
]);

/** Names `--type` accepts, in the order they are listed. */
export const QUANT_TYPE_NAMES: readonly string[] = [...FILE_TYPES.map((t) => t.name), ...ALIASES.keys()];

/** The file type named `name` (case-insensitive, aliases resolved), or undefined. */
export function quantFileType(name: string): QuantFileType | undefined {
  const upper = name.toUpperCase();
  const resolved = ALIASES.get(upper) ?? upper;
  return FILE_TYPES.find((t) => t.name === resolved);
}

const FT = Object.fromEntries(FILE_TYPES.map((t) => [t.name, t.ftype])) as Record<string, number>;

type Category = "output" | "token_embd" | "attn_v" | "attn_k" | "attn_q" | "attn_output" | "ffn_down" | "other";

export function tensorCategory(name: string): Category {
  if (name === "output.weight") return "output";
  if (name === "token_embd.weight" || name === "per_layer_token_embd.weight") return "token_embd";
  if (name.includes("attn_qkv.weight") || name.includes("attn_kv_b.weight") || name.includes("attn_v.weight")) return "attn_v";
  if (name.includes("attn_k.weight")) return "attn_k";
  if (name.includes("attn_q.weight")) return "attn_q";
  if (name.includes("attn_output.weight")) return "attn_output";
  if (name.includes("ffn_up") || name.includes("ffn_gate")) return "other";
  if (name.includes("ffn_down")) return "ffn_down";
  return "other";
}

const NOT_QUANTIZED = [
  "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
  "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight",
  "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
  "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
  "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
  ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
];

/** llama.cpp's `tensor_allows_quantization`: 2-D+ tensors named `*weight`, minus norms, routers and small special tables. */
export function allowsQuantization(name: string, nDims: number, leaveOutputTensor: boolean): boolean {
  if (nDims < 2 || !name.endsWith("weight")) return false;
  if (leaveOutputTensor && name === "output.weight") return false;
  if (name === "position_embd.weight" || name === "token_types.weight") return false;
  return !NOT_QUANTIZED.some((part) => name.includes(part));
}

/** Model facts the mixes depend on. */
export interface QuantModelInfo {
  readonly arch: string;
  /** n_head / n_head_kv (0 when unknown) */
  readonly nGqa: number;
  readonly nExpert: number;
  /** whether the file has no `output.weight` (token_embd doubles as the output) */
  readonly tiedEmbeddings: boolean;
  readonly nAttentionV: number;
  readonly nFfnDown: number;
}

/** Picks each tensor's type in file order (llama.cpp counts attn_v and ffn_down tensors as it goes). */
export class QuantTypePicker {
  private iAttentionV = 0;
  private iFfnDown = 0;
  /** how many tensors fell back to another type because of their row length */
  nFallback = 0;

  constructor(
    private readonly fileType: QuantFileType,
    private readonly model: QuantModelInfo,
    private readonly pure = false,
  ) {}

  /** The type for tensor `name` of shape `dims` (ggml order), one llama.cpp's rules allow to be quantized. */
  pick(name: string, dims: readonly number[]): GgmlType {
    let type = this.fileType.defaultType;
    if (!isQuantized(type)) return type;
    const category = tensorCategory(name);
    if (!this.pure) type = this.mix(type, category, dims[0]);
    else if (category === "attn_v") this.iAttentionV++;
    else if (category === "ffn_down") this.iFfnDown++;
    return this.fallback(type, dims[0]);
  }

  private mix(type: GgmlType, category: Category, nCols: number): GgmlType {
    const ft = this.fileType.ftype;
    const { arch, nExpert } = this.model;
    if (category === "output" || (this.model.tiedEmbeddings && category === "token_embd")) {
      if (arch === "falcon" || nCols % blockSize(type) !== 0) return GgmlType.Q8_0;
      return type === GgmlType.Q8_0 ? type : GgmlType.Q6_K;
    }
    if (category === "token_embd") return type;
    if (category === "attn_v") return this.attnV(type);
    if (category === "attn_k") return nExpert === 8 ? GgmlType.Q8_0 : type;
    if (category === "ffn_down") return this.ffnDown(type);
    if (category === "attn_output") {
      if (arch === "falcon") return ft === FT.Q3_K_L ? GgmlType.Q4_K : type;
      if (nExpert === 8) {
        return [FT.Q2_K, FT.Q3_K_S, FT.Q3_K_M, FT.IQ4_NL, FT.Q4_K_S, FT.Q4_K_M, FT.IQ4_XS].includes(ft) ? GgmlType.Q5_K : type;
      }
      if (ft === FT.Q2_K) return GgmlType.Q3_K;
      if (ft === FT.Q3_K_M) return GgmlType.Q4_K;
      if (ft === FT.Q3_K_L) return GgmlType.Q5_K;
    }
    return type;
  }

  private attnV(type: GgmlType): GgmlType {
    const ft = this.fileType.ftype;
    const { nGqa, nExpert } = this.model;
    const i = this.iAttentionV++;
    if (ft === FT.Q2_K) type = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
    else if (ft === FT.Q3_K_M) type = i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
    else if (ft === FT.Q3_K_L) type = GgmlType.Q5_K;
    else if ((ft === FT.IQ4_NL || ft === FT.IQ4_XS) && nGqa >= 4) type = GgmlType.Q5_K;
    else if ((ft === FT.Q4_K_M || ft === FT.Q5_K_M) && useMoreBits(i, this.model.nAttentionV)) type = GgmlType.Q6_K;
    else if (ft === FT.Q4_K_S && i < 4) type = GgmlType.Q5_K;
    return nExpert === 8 ? GgmlType.Q8_0 : type;
  }

  private ffnDown(type: GgmlType): GgmlType {
    const ft = this.fileType.ftype;
    const i = this.iFfnDown++;
    const n = this.model.nFfnDown;
    const falcon = this.model.arch === "falcon";
    if (ft === FT.Q2_K) return GgmlType.Q3_K;
    if (ft === FT.Q3_K_M) return i < Math.trunc(n / 16) ? GgmlType.Q5_K : !falcon || useMoreBits(i, n) ? GgmlType.Q4_K : GgmlType.Q3_K;
    if (ft === FT.Q3_K_L) return falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
    if (ft === FT.Q4_K_M) {
      if (falcon) return i < Math.trunc(n / 16) ? GgmlType.Q6_K : useMoreBits(i, n) ? GgmlType.Q5_K : GgmlType.Q4_K;
      return useMoreBits(i, n) ? GgmlType.Q6_K : type;
    }
    if (i < Math.trunc(n / 8) && (ft === FT.IQ4_NL || ft === FT.IQ4_XS)) return GgmlType.Q5_K;
    if (ft === FT.Q5_K_M && useMoreBits(i, n)) return GgmlType.Q6_K;
    if (ft === FT.Q4_K_S && !falcon && i < Math.trunc(n / 8)) return GgmlType.Q5_K;
    return type;
  }

  /** llama.cpp's `tensor_type_fallback`: a type whose block does not divide the row length. */
  private fallback(type: GgmlType, nCols: number): GgmlType {
    if (nCols % blockSize(type) === 0) return type;
    this.nFallback++;
    const FALLBACK = new Map([
      [GgmlType.Q2_K, GgmlType.Q4_0],
      [GgmlType.Q3_K, GgmlType.Q4_0],
      [GgmlType.Q4_K, GgmlType.Q5_0],
      [GgmlType.Q5_K, GgmlType.Q5_1],
      [GgmlType.Q6_K, GgmlType.Q8_0],
      [GgmlType.IQ4_XS, GgmlType.IQ4_NL],
    ]);
    const next = FALLBACK.get(type) ?? type;
    return nCols % blockSize(next) === 0 ? next : GgmlType.F16;
  }
}

function useMoreBits(i: number, n: number): boolean {
  const eighth = Math.trunc(n / 8);
  return i < eighth || i >= Math.trunc((7 * n) / 8) || (i - eighth) % 3 === 2;
}

function blockSize(type: GgmlType): number {
  return GGML_TYPE_TRAITS.get(type)?.blockSize ?? 1;
}

/** ggml_is_quantized: a block type (not F32/F16/BF16 or an integer type). */
export function isQuantized(type: GgmlType): boolean {
  return blockSize(type) > 1;
}
