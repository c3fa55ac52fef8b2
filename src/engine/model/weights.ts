import { GgmlType, ggmlTypeName } from "../ggml/types.js";
import type { GgufFile, GgufTensorInfo } from "../gguf/types.js";
import { dequantizeRows } from "../quant/matmul.js";
import { weightKernel } from "../quant/table.js";
import { ModelFormatError } from "../errors.js";
import type { ModelHparams } from "./hparams.js";

/** A weight matrix as stored in the file: [nRows, nCols] with nCols contiguous (ggml dims [nCols, nRows]). */
export interface WeightMatrix {
  readonly name: string;
  readonly type: GgmlType;
  readonly nCols: number;
  readonly nRows: number;
  /** the tensor's bytes (a view of the mapped file, or an owned copy) */
  readonly bytes: Uint8Array;
}

/** The weights of one transformer block. */
export interface LayerWeights {
  /** f32 [nEmbd] */
  readonly attnNorm: Float32Array;
  /** [nHead·headDim rows, nEmbd cols] */
  readonly wq: WeightMatrix;
  /** [nHeadKv·headDim, nEmbd] */
  readonly wk: WeightMatrix;
  /** [nHeadKv·headDim, nEmbd] */
  readonly wv: WeightMatrix;
  /** [nEmbd, nHead·headDim] */
  readonly wo: WeightMatrix;
  /** f32 [nHead·headDim], qwen2 only */
  readonly bq?: Float32Array;
  /** f32 [nHeadKv·headDim], qwen2 only */
  readonly bk?: Float32Array;
  /** f32 [nHeadKv·headDim], qwen2 only */
  readonly bv?: Float32Array;
  /** f32 [nEmbd] */
  readonly ffnNorm: Float32Array;
  /** [nFf, nEmbd] */
  readonly ffnGate: WeightMatrix;
  /** [nFf, nEmbd] */
  readonly ffnUp: WeightMatrix;
  /** [nEmbd, nFf] */
  readonly ffnDown: WeightMatrix;
}

/** Embeddings, final norm and output head: what the root keeps. */
export interface HeadWeights {
  /** [nVocab rows, nEmbd cols] */
  readonly tokenEmbd: WeightMatrix;
  /** f32 [nEmbd] */
  readonly outputNorm: Float32Array;
  /** [nVocab, nEmbd]; the token embeddings when the model ties them */
  readonly output: WeightMatrix;
  /** f32 [nRot/2] RoPE frequency divisors (`rope_freqs.weight`), if the model has them */
  readonly ropeFreqs?: Float32Array;
}

/** Where tensor bytes come from: views of a mapped file, or copies read from disk. */
export type TensorBytes = (info: GgufTensorInfo) => Uint8Array;

/** The tensors of one block, checked for presence, shape and type, with no data read. */
export interface LayerTensors {
  readonly il: number;
  readonly attnNorm: GgufTensorInfo;
  readonly wq: GgufTensorInfo;
  readonly wk: GgufTensorInfo;
  readonly wv: GgufTensorInfo;
  readonly wo: GgufTensorInfo;
  readonly bq?: GgufTensorInfo;
  readonly bk?: GgufTensorInfo;
  readonly bv?: GgufTensorInfo;
  readonly ffnNorm: GgufTensorInfo;
  readonly ffnGate: GgufTensorInfo;
  readonly ffnUp: GgufTensorInfo;
  readonly ffnDown: GgufTensorInfo;
  /** all of the above, in file order */
  readonly all: readonly GgufTensorInfo[];
  /** bytes of tensor data */
  readonly nBytes: number;
}

/** Checks block `il` (presence, shapes, types) without touching tensor data. */
export function layerTensors(file: GgufFile, hparams: ModelHparams, il: number): LayerTensors {
  const { nEmbd, nHead, nHeadKv, headDim, nFf } = hparams;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const name = (n: string) => `blk.${il}.${n}`;
  const matrix = (n: string, nCols: number, nRows: number) => checkMatrix(file, name(n), nCols, nRows);
  const vector = (n: string, length: number) => checkVector(file, name(n), length);
  const bias = hparams.traits.hasQkvBias;
  const tensors = {
    il,
    attnNorm: vector("attn_norm.weight", nEmbd),
    wq: matrix("attn_q.weight", nEmbd, nQ),
    wk: matrix("attn_k.weight", nEmbd, nKv),
    wv: matrix("attn_v.weight", nEmbd, nKv),
    wo: matrix("attn_output.weight", nQ, nEmbd),
    bq: bias ? vector("attn_q.bias", nQ) : undefined,
    bk: bias ? vector("attn_k.bias", nKv) : undefined,
    bv: bias ? vector("attn_v.bias", nKv) : undefined,
    ffnNorm: vector("ffn_norm.weight", nEmbd),
    ffnGate: matrix("ffn_gate.weight", nEmbd, nFf),
    ffnUp: matrix("ffn_up.weight", nEmbd, nFf),
    ffnDown: matrix("ffn_down.weight", nFf, nEmbd),
  };
  const all = Object.values(tensors)
    .filter((v): v is GgufTensorInfo => typeof v === "object" && v !== undefined)
    .sort((a, b) => a.fileOffset - b.fileOffset);
  return { ...tensors, all, nBytes: all.reduce((n, t) => n + t.nBytes, 0) };
}

/** Binds a checked block to its bytes. */
export function bindLayer(tensors: LayerTensors, bytesOf: TensorBytes): LayerWeights {
  const m = (info: GgufTensorInfo) => toMatrix(info, bytesOf(info));
  const v = (info: GgufTensorInfo) => toVector(info, bytesOf(info));
  return {
    attnNorm: v(tensors.attnNorm),
    wq: m(tensors.wq),
    wk: m(tensors.wk),
    wv: m(tensors.wv),
    wo: m(tensors.wo),
    bq: tensors.bq && v(tensors.bq),
    bk: tensors.bk && v(tensors.bk),
    bv: tensors.bv && v(tensors.bv),
    ffnNorm: v(tensors.ffnNorm),
    ffnGate: m(tensors.ffnGate),
    ffnUp: m(tensors.ffnUp),
    ffnDown: m(tensors.ffnDown),
  };
}

/** The head's tensors, checked for presence and shape, with no data read. */
export interface HeadTensors {
  readonly tokenEmbd: GgufTensorInfo;
  readonly outputNorm: GgufTensorInfo;
  /** undefined when the model ties the output to the embeddings */
  readonly output?: GgufTensorInfo;
  readonly ropeFreqs?: GgufTensorInfo;
}

/** Checks the embeddings, final norm, output head and RoPE frequencies without reading them. */
export function headTensors(file: GgufFile, hparams: ModelHparams): HeadTensors {
  const { nEmbd, nVocab } = hparams;
  return {
    tokenEmbd: checkMatrix(file, "token_embd.weight", nEmbd, nVocab),
    outputNorm: checkVector(file, "output_norm.weight", nEmbd),
    output: file.tensorsByName.has("output.weight") ? checkMatrix(file, "output.weight", nEmbd, nVocab) : undefined,
    ropeFreqs: file.tensorsByName.has("rope_freqs.weight") ? checkVector(file, "rope_freqs.weight", hparams.rope.nRot / 2) : undefined,
  };
}

/** A checked f32 vector tensor's values. */
export function bindVector(info: GgufTensorInfo, bytesOf: TensorBytes): Float32Array {
  return toVector(info, bytesOf(info));
}

/** Binds checked head tensors to their bytes. */
export function bindHead(tensors: HeadTensors, bytesOf: TensorBytes): HeadWeights {
  const tokenEmbd = toMatrix(tensors.tokenEmbd, bytesOf(tensors.tokenEmbd));
  return {
    tokenEmbd,
    outputNorm: toVector(tensors.outputNorm, bytesOf(tensors.outputNorm)),
    output: tensors.output ? toMatrix(tensors.output, bytesOf(tensors.output)) : tokenEmbd,
    ropeFreqs: tensors.ropeFreqs ? toVector(tensors.ropeFreqs, bytesOf(tensors.ropeFreqs)) : undefined,
  };
}

/** Bytes the head occupies when held in memory (embeddings, norm, output; tied weights once). */
export function headBytes(file: GgufFile): number {
  const names = ["token_embd.weight", "output.weight", "output_norm.weight", "rope_freqs.weight"];
  return names.reduce((n, name) => n + (file.tensorsByName.get(name)?.nBytes ?? 0), 0);
}

function requireTensor(file: GgufFile, name: string): GgufTensorInfo {
  const info = file.tensorsByName.get(name);
  if (!info) throw new ModelFormatError("MISSING_TENSOR", `missing tensor "${name}"`);
  return info;
}

function checkMatrix(file: GgufFile, name: string, nCols: number, nRows: number): GgufTensorInfo {
  const info = requireTensor(file, name);
  const [cols, rows = 1, ...rest] = info.dims;
  if (cols !== nCols || rows !== nRows || rest.some((d) => d !== 1)) {
    throw new ModelFormatError("BAD_TENSOR_SHAPE", `tensor "${name}" has shape [${info.dims.join(", ")}], expected [${nCols}, ${nRows}]`);
  }
  weightKernel(info.type); // throws for types we cannot compute with
  return info;
}

function checkVector(file: GgufFile, name: string, length: number): GgufTensorInfo {
  const info = requireTensor(file, name);
  if (info.nElements !== length) {
    throw new ModelFormatError("BAD_TENSOR_SHAPE", `tensor "${name}" has ${info.nElements} values, expected ${length}`);
  }
  if (info.type !== GgmlType.F32 && info.type !== GgmlType.F16 && info.type !== GgmlType.BF16) {
    throw new ModelFormatError("BAD_TENSOR_TYPE", `tensor "${name}" is ${ggmlTypeName(info.type)}, expected F32, F16 or BF16`);
  }
  return info;
}

function toMatrix(info: GgufTensorInfo, bytes: Uint8Array): WeightMatrix {
  return { name: info.name, type: info.type, nCols: info.dims[0], nRows: info.dims[1] ?? 1, bytes };
}

/** Small vectors (norms, biases) are decoded into owned f32 arrays, and refused when they hold NaN or Inf (checking costs nothing here). */
function toVector(info: GgufTensorInfo, bytes: Uint8Array): Float32Array {
  const out = new Float32Array(info.nElements);
  dequantizeRows(info.type, bytes, 0, out, info.nElements);
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v - v !== 0) throw new ModelFormatError("NON_FINITE_WEIGHTS", `tensor "${info.name}" holds ${Number.isNaN(v) ? "NaN" : "Inf"} (element ${i} of ${out.length}): the model would compute garbage`);
  }
  return out;
}
