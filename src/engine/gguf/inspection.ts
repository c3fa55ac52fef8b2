/**
 * `inspectGguf`: a plain, JSON-serialisable summary of a GGUF file (the data behind
 * `layerstream inspect`). Only what is present in the file is reported.
 */
import { ggmlTypeName } from "../ggml/types.js";
import { GgufFormatError } from "./errors.js";
import * as strict from "./metadata.js";
import { GgufValueType, type GgufArray, type GgufFile, type GgufValue } from "./types.js";
import { architectureFeatures } from "../model/architectureSummary.js";

export type JsonScalar = number | string | boolean;
/** Arrays longer than this are summarised by their length. */
const MAX_LISTED_ARRAY_ITEMS = 16;

export interface GgufTensorSummary {
  readonly name: string;
  readonly type: string;
  /** ggml order: dims[0] is the row length */
  readonly dims: readonly number[];
  readonly nElements: number;
  readonly nBytes: number;
  readonly fileOffset: number;
}

export interface GgufLayerSummary {
  /** the N of `blk.N.*` */
  readonly index: number;
  readonly nTensors: number;
  readonly nBytes: number;
}

export interface GgufTokenizerSummary {
  readonly model?: string;
  readonly pre?: string;
  readonly nTokens?: number;
  readonly bosId?: number;
  readonly bosText?: string;
  readonly eosId?: number;
  readonly eosText?: string;
  readonly unknownId?: number;
  readonly paddingId?: number;
  readonly addBosToken?: boolean;
  readonly addEosToken?: boolean;
  readonly nMerges?: number;
  readonly hasChatTemplate: boolean;
}

export interface GgufInspection {
  readonly path?: string;
  readonly fileBytes: number;
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly dataOffset: number;
  readonly nMetadata: number;
  readonly architecture?: string;
  /** what the architecture's blocks do beyond llama's, and its RoPE factor tensors (or "not supported …") */
  readonly architectureFeatures?: string;
  readonly name?: string;
  readonly fileType?: { readonly id: number; readonly name: string };
  /** other `general.*` keys (scalars and short arrays) */
  readonly general: Readonly<Record<string, JsonScalar | JsonScalar[]>>;
  /** `${architecture}.*` keys without the prefix, well-known ones first */
  readonly hyperParameters: Readonly<Record<string, JsonScalar | JsonScalar[]>>;
  readonly tokenizer?: GgufTokenizerSummary;
  readonly tensors: readonly GgufTensorSummary[];
  readonly layers: readonly GgufLayerSummary[];
  readonly nonLayer: { readonly nTensors: number; readonly nBytes: number };
  readonly totalTensorBytes: number;
  readonly nParameters: number;
}

/** Hyper-parameters listed first, in this order, when present. */
const WELL_KNOWN_HPARAMS = [
  "vocab_size",
  "context_length",
  "embedding_length",
  "block_count",
  "feed_forward_length",
  "attention.head_count",
  "attention.head_count_kv",
  "attention.key_length",
  "attention.value_length",
  "attention.layer_norm_rms_epsilon",
  "attention.layer_norm_epsilon",
  "rope.dimension_count",
  "rope.freq_base",
  "rope.scaling.type",
  "rope.scaling.factor",
  "rope.scaling.original_context_length",
  "expert_count",
  "expert_used_count",
];

/** llama.cpp `llama_ftype` names (general.file_type). */
const FILE_TYPE_NAMES: readonly (string | undefined)[] = [
  "ALL_F32", "MOSTLY_F16", "MOSTLY_Q4_0", "MOSTLY_Q4_1", "MOSTLY_Q4_1_SOME_F16", undefined, undefined,
  "MOSTLY_Q8_0", "MOSTLY_Q5_0", "MOSTLY_Q5_1", "MOSTLY_Q2_K", "MOSTLY_Q3_K_S", "MOSTLY_Q3_K_M", "MOSTLY_Q3_K_L",
  "MOSTLY_Q4_K_S", "MOSTLY_Q4_K_M", "MOSTLY_Q5_K_S", "MOSTLY_Q5_K_M", "MOSTLY_Q6_K", "MOSTLY_IQ2_XXS",
  "MOSTLY_IQ2_XS", "MOSTLY_Q2_K_S", "MOSTLY_IQ3_XS", "MOSTLY_IQ3_XXS", "MOSTLY_IQ1_S", "MOSTLY_IQ4_NL",
  "MOSTLY_IQ3_S", "MOSTLY_IQ3_M", "MOSTLY_IQ2_S", "MOSTLY_IQ2_M", "MOSTLY_IQ4_XS", "MOSTLY_IQ1_M", "MOSTLY_BF16",
  undefined, undefined, undefined, "MOSTLY_TQ1_0", "MOSTLY_TQ2_0", "MOSTLY_MXFP4_MOE",
];

/** llama.cpp's name of a `general.file_type` id: 15 → "MOSTLY_Q4_K_M"; unknown ids → "file_type#N". */
function fileTypeName(id: number): string {
  return FILE_TYPE_NAMES[id] ?? `file_type#${id}`;
}

/**
 * The short quantization name of a `general.file_type` id, as download names spell it:
 * 7 → "Q8_0", 15 → "Q4_K_M", 0 → "F32"; unknown ids → "file_type#N".
 */
function fileTypeShortName(id: number): string {
  return fileTypeName(id).replace(/^(MOSTLY|ALL)_/, "");
}

/**
 * A file's quantization as download names spell it: `general.file_type` (MOSTLY_Q4_K_M →
 * "Q4_K_M", ALL_F32 → "F32"); without it, the tensor type holding the most bytes of the weight
 * matrices, as llama.cpp guesses it. undefined for a file with neither.
 */
export function quantizationName(file: GgufFile): string | undefined {
  const fileTypeId = optionalNumber(file, "general.file_type");
  if (fileTypeId !== undefined) return fileTypeShortName(fileTypeId);
  const nBytesByType = new Map<string, number>();
  for (const tensor of file.tensors) {
    if (tensor.dims.length < 2) continue;
    const type = ggmlTypeName(tensor.type);
    nBytesByType.set(type, (nBytesByType.get(type) ?? 0) + tensor.nBytes);
  }
  return [...nBytesByType.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const LAYER_TENSOR_NAME = /^blk\.(\d+)\./;

/** Inspection reports what it can: a key of an unexpected type is treated as absent (it still shows in its section). */
function lenient<T>(read: (file: GgufFile, key: string) => T | undefined): (file: GgufFile, key: string) => T | undefined {
  return (file, key) => {
    try {
      return read(file, key);
    } catch (error) {
      if (error instanceof GgufFormatError) return undefined;
      throw error;
    }
  };
}
const optionalString = lenient(strict.optionalString);
const optionalNumber = lenient(strict.optionalNumber);
const optionalBool = lenient(strict.optionalBool);
const optionalArrayLength = lenient(strict.optionalArrayLength);

export function inspectGguf(file: GgufFile): GgufInspection {
  const architecture = optionalString(file, "general.architecture");
  const fileTypeId = optionalNumber(file, "general.file_type");
  const tensors = file.tensors.map((t) => ({
    name: t.name,
    type: ggmlTypeName(t.type),
    dims: [...t.dims],
    nElements: t.nElements,
    nBytes: t.nBytes,
    fileOffset: t.fileOffset,
  }));
  const { layers, nonLayer } = summariseLayers(tensors);
  const path = (file as { path?: unknown }).path;
  return {
    ...(typeof path === "string" ? { path } : {}),
    fileBytes: file.fileBytes,
    version: file.version,
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    nMetadata: file.metadata.size,
    ...(architecture !== undefined ? { architecture } : {}),
    ...optionalField("architectureFeatures", architectureFeatures(file, architecture)),
    ...optionalField("name", optionalString(file, "general.name")),
    ...(fileTypeId !== undefined ? { fileType: { id: fileTypeId, name: fileTypeName(fileTypeId) } } : {}),
    general: generalKeys(file),
    hyperParameters: architecture === undefined ? {} : hyperParameters(file, architecture),
    ...optionalField("tokenizer", tokenizerSummary(file)),
    tensors,
    layers,
    nonLayer,
    totalTensorBytes: tensors.reduce((sum, t) => sum + t.nBytes, 0),
    nParameters: tensors.reduce((sum, t) => sum + t.nElements, 0),
  };
}

function optionalField<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function summariseLayers(tensors: readonly GgufTensorSummary[]): Pick<GgufInspection, "layers" | "nonLayer"> {
  const byIndex = new Map<number, { nTensors: number; nBytes: number }>();
  let nonLayer = { nTensors: 0, nBytes: 0 };
  for (const tensor of tensors) {
    const match = LAYER_TENSOR_NAME.exec(tensor.name);
    if (match === null) {
      nonLayer = { nTensors: nonLayer.nTensors + 1, nBytes: nonLayer.nBytes + tensor.nBytes };
      continue;
    }
    const index = Number(match[1]);
    const layer = byIndex.get(index) ?? { nTensors: 0, nBytes: 0 };
    byIndex.set(index, { nTensors: layer.nTensors + 1, nBytes: layer.nBytes + tensor.nBytes });
  }
  const layers = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([index, layer]) => ({ index, ...layer }));
  return { layers, nonLayer };
}

function hyperParameters(file: GgufFile, architecture: string): Record<string, JsonScalar | JsonScalar[]> {
  const prefix = `${architecture}.`;
  const result: Record<string, JsonScalar | JsonScalar[]> = {};
  for (const name of WELL_KNOWN_HPARAMS) {
    const entry = file.metadata.get(prefix + name);
    if (entry !== undefined) result[name] = toJson(entry.type, entry.value);
  }
  for (const [key, entry] of file.metadata) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if (!(name in result)) result[name] = toJson(entry.type, entry.value);
  }
  return result;
}

function generalKeys(file: GgufFile): Record<string, JsonScalar | JsonScalar[]> {
  const shownElsewhere = new Set(["general.architecture", "general.name", "general.file_type", "general.alignment"]);
  const result: Record<string, JsonScalar | JsonScalar[]> = {};
  for (const [key, entry] of file.metadata) {
    if (key.startsWith("general.") && !shownElsewhere.has(key)) result[key.slice("general.".length)] = toJson(entry.type, entry.value);
  }
  return result;
}

function tokenizerSummary(file: GgufFile): GgufTokenizerSummary | undefined {
  const hasTokenizer = [...file.metadata.keys()].some((key) => key.startsWith("tokenizer."));
  if (!hasTokenizer) return undefined;
  const tokens = file.metadata.get("tokenizer.ggml.tokens");
  const tokenText = (id: number | undefined): string | undefined => {
    if (id === undefined || tokens?.type !== GgufValueType.ARRAY) return undefined;
    const item = (tokens.value as GgufArray).items[id];
    return typeof item === "string" ? item : undefined;
  };
  const bosId = optionalNumber(file, "tokenizer.ggml.bos_token_id");
  const eosId = optionalNumber(file, "tokenizer.ggml.eos_token_id");
  return {
    ...optionalField("model", optionalString(file, "tokenizer.ggml.model")),
    ...optionalField("pre", optionalString(file, "tokenizer.ggml.pre")),
    ...optionalField("nTokens", optionalArrayLength(file, "tokenizer.ggml.tokens")),
    ...optionalField("bosId", bosId),
    ...optionalField("bosText", tokenText(bosId)),
    ...optionalField("eosId", eosId),
    ...optionalField("eosText", tokenText(eosId)),
    ...optionalField("unknownId", optionalNumber(file, "tokenizer.ggml.unknown_token_id")),
    ...optionalField("paddingId", optionalNumber(file, "tokenizer.ggml.padding_token_id")),
    ...optionalField("addBosToken", optionalBool(file, "tokenizer.ggml.add_bos_token")),
    ...optionalField("addEosToken", optionalBool(file, "tokenizer.ggml.add_eos_token")),
    ...optionalField("nMerges", optionalArrayLength(file, "tokenizer.ggml.merges")),
    hasChatTemplate: file.metadata.has("tokenizer.chat_template"),
  };
}

/**
 * bigint → number when safe, else its decimal string; f32 → the shortest decimal that reads
 * back as the same f32 (1e-5, not 0.000009999999747378752); long or nested arrays → "[N items]".
 */
function toJson(type: GgufValueType, value: GgufValue): JsonScalar | JsonScalar[] {
  if (typeof value !== "object") return scalarToJson(type, value);
  if (value.items.length > MAX_LISTED_ARRAY_ITEMS || value.itemType === GgufValueType.ARRAY) {
    return `[${value.items.length} items]`;
  }
  return value.items.map((item) => scalarToJson(value.itemType, item as number | bigint | string | boolean));
}

function scalarToJson(type: GgufValueType, value: number | bigint | string | boolean): JsonScalar {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (type === GgufValueType.FLOAT32 && typeof value === "number") return shortestFloat32(value);
  return value;
}

function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let precision = 1; precision < 10; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
