import { GgmlType, ggmlTypeName } from "../ggml/types.js";
import type { GgufFile, GgufTensorInfo } from "../gguf/types.js";
import { tensorData } from "../gguf/reader.js";
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

/** Names of the tensors of block `il`, in the order they are used. */
export function layerTensorNames(il: number, hparams: ModelHparams): string[] {
  const names = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"].map(
    (n) => `blk.${il}.${n}.weight`,
  );
  if (hparams.traits.hasQkvBias) names.push(`blk.${il}.attn_q.bias`, `blk.${il}.attn_k.bias`, `blk.${il}.attn_v.bias`);
  return names;
}

/** Bytes of every tensor of block `il`. */
export function layerBytes(file: GgufFile, il: number, hparams: ModelHparams): number {
  let nBytes = 0;
  for (const name of layerTensorNames(il, hparams)) nBytes += file.tensorsByName.get(name)?.nBytes ?? 0;
  return nBytes;
}

/** Binds and shape-checks the weights of block `il`. `bytesOf` may copy (streaming) or view (mmap). */
export function bindLayer(
  file: GgufFile,
  hparams: ModelHparams,
  il: number,
  bytesOf: (info: GgufTensorInfo) => Uint8Array = (info) => tensorData(file, info),
): LayerWeights {
  const { nEmbd, nHead, nHeadKv, headDim, nFf } = hparams;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const name = (n: string) => `blk.${il}.${n}`;
  const matrix = (n: string, nCols: number, nRows: number) => bindMatrix(file, name(n), nCols, nRows, bytesOf);
  const vector = (n: string, length: number) => bindVector(file, name(n), length);
  const bias = hparams.traits.hasQkvBias;
  return {
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
}

export function bindHead(file: GgufFile, hparams: ModelHparams): HeadWeights {
  const { nEmbd, nVocab } = hparams;
  const tokenEmbd = bindMatrix(file, "token_embd.weight", nEmbd, nVocab);
  const output = file.tensorsByName.has("output.weight") ? bindMatrix(file, "output.weight", nEmbd, nVocab) : tokenEmbd;
  const ropeFreqsInfo = file.tensorsByName.get("rope_freqs.weight");
  return {
    tokenEmbd,
    outputNorm: bindVector(file, "output_norm.weight", nEmbd),
    output,
    ropeFreqs: ropeFreqsInfo ? bindVector(file, "rope_freqs.weight", hparams.rope.nRot / 2) : undefined,
  };
}

function requireTensor(file: GgufFile, name: string): GgufTensorInfo {
  const info = file.tensorsByName.get(name);
  if (!info) throw new ModelFormatError("MISSING_TENSOR", `missing tensor "${name}"`);
  return info;
}

function bindMatrix(
  file: GgufFile,
  name: string,
  nCols: number,
  nRows: number,
  bytesOf: (info: GgufTensorInfo) => Uint8Array = (info) => tensorData(file, info),
): WeightMatrix {
  const info = requireTensor(file, name);
  const [cols, rows = 1, ...rest] = info.dims;
  if (cols !== nCols || rows !== nRows || rest.some((d) => d !== 1)) {
    throw new ModelFormatError("BAD_TENSOR_SHAPE", `tensor "${name}" has shape [${info.dims.join(", ")}], expected [${nCols}, ${nRows}]`);
  }
  weightKernel(info.type); // throws for types we cannot compute with
  return { name, type: info.type, nCols, nRows, bytes: bytesOf(info) };
}

/** Reads a small vector tensor (norm weights, biases) into an owned f32 array. */
function bindVector(file: GgufFile, name: string, length: number): Float32Array {
  const info = requireTensor(file, name);
  if (info.nElements !== length) {
    throw new ModelFormatError("BAD_TENSOR_SHAPE", `tensor "${name}" has ${info.nElements} values, expected ${length}`);
  }
  if (info.type !== GgmlType.F32 && info.type !== GgmlType.F16 && info.type !== GgmlType.BF16) {
    throw new ModelFormatError("BAD_TENSOR_TYPE", `tensor "${name}" is ${ggmlTypeName(info.type)}, expected F32, F16 or BF16`);
  }
  const out = new Float32Array(length);
  dequantizeRows(info.type, tensorData(file, info), 0, out, length);
  return out;
}
