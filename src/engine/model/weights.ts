import { GgmlType, ggmlTypeName, rowBytes } from "../ggml/types.js";
import type { GgufFile, GgufTensorInfo } from "../gguf/types.js";
import { dequantizeRows } from "../quant/matmul.js";
import { weightKernel } from "../quant/table.js";
import { ModelFormatError } from "../errors.js";
import type { ModelHparams } from "./hparams.js";
import type { ComputeBackend, MatmulType, PackedMatmulType } from "../backend/computeBackend.js";

/** A weight matrix as stored in the file: [nRows, nCols] with nCols contiguous (ggml dims [nCols, nRows]). */
export interface WeightMatrix {
  readonly name: string;
  readonly type: GgmlType;
  readonly nCols: number;
  readonly nRows: number;
  /** the tensor's bytes (a view of the mapped file, or an owned copy; packed: see matmulType) */
  readonly bytes: Uint8Array;
  /**
   * Set when `bytes` were packed for the compute backend (ComputeBackend.pack): what its matmul
   * takes instead of `type`; the bytes are then not in the file's order.
   */
  readonly matmulType?: PackedMatmulType;
}

/** What to pass to ComputeBackend.matmul for this matrix. */
export function matmulTypeOf(w: WeightMatrix): MatmulType {
  return w.matmulType ?? w.type;
}

/** What packing a matrix needs of a backend. */
export type Packer = Pick<ComputeBackend, "pack" | "residentCopy">;

/**
 * The matrix packed for a backend's matmul; where the backend reads it as stored, the backend's
 * resident copy of it (ComputeBackend.residentCopy), or itself.
 */
export function packMatrix(w: WeightMatrix, backend: Packer): WeightMatrix {
  if (w.matmulType !== undefined) return w;
  const packed = backend.pack(w.bytes, w.type, w.nCols, w.nRows);
  if (packed) return { ...w, bytes: packed.bytes, matmulType: packed.matmulType };
  return backend.residentCopy ? { ...w, bytes: backend.residentCopy(w.bytes) } : w;
}

/** A block's seven matrices packed for a backend's matmul (packMatrix); norms and biases as they are. */
export function packLayer(weights: LayerWeights, backend: Packer): LayerWeights {
  const p = (w: WeightMatrix) => packMatrix(w, backend);
  return { ...weights, wq: p(weights.wq), wk: p(weights.wk), wv: p(weights.wv), wo: p(weights.wo), ffnGate: p(weights.ffnGate), ffnUp: p(weights.ffnUp), ffnDown: p(weights.ffnDown) };
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
  /** f32 [headDim] per-head RMS norm weights of Q and K, qwen3 only */
  readonly qNorm?: Float32Array;
  readonly kNorm?: Float32Array;
  /** f32 [nEmbd] norms of the attention and feed-forward outputs, gemma only */
  readonly attnPostNorm?: Float32Array;
  readonly ffnPostNorm?: Float32Array;
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
  /** separate Q/K/V projections, or … */
  readonly wq?: GgufTensorInfo;
  readonly wk?: GgufTensorInfo;
  readonly wv?: GgufTensorInfo;
  /** … one fused `attn_qkv` [nEmbd, nQ + 2·nKv] (phi3): Q rows, then K, then V */
  readonly wqkv?: GgufTensorInfo;
  readonly wo: GgufTensorInfo;
  readonly bq?: GgufTensorInfo;
  readonly bk?: GgufTensorInfo;
  readonly bv?: GgufTensorInfo;
  /** f32 [headDim] per-head norms of Q and K (qwen3) */
  readonly qNorm?: GgufTensorInfo;
  readonly kNorm?: GgufTensorInfo;
  /** f32 [nEmbd] (gemma) */
  readonly attnPostNorm?: GgufTensorInfo;
  readonly ffnPostNorm?: GgufTensorInfo;
  readonly ffnNorm: GgufTensorInfo;
  /** absent when `ffnUp` holds gate and up fused (phi3: [nEmbd, 2·nFf], gate rows first) */
  readonly ffnGate?: GgufTensorInfo;
  readonly ffnUp: GgufTensorInfo;
  readonly ffnDown: GgufTensorInfo;
  /** all of the above, in file order */
  readonly all: readonly GgufTensorInfo[];
  /** bytes of tensor data */
  readonly nBytes: number;
}

/** Checks block `il` (presence, shapes, types) without touching tensor data. */
export function layerTensors(file: GgufFile, hparams: ModelHparams, il: number): LayerTensors {
  const { nEmbd, nHead, nHeadKv, headDim, nFf, traits } = hparams;
  const nQ = nHead * headDim;
  const nKv = nHeadKv * headDim;
  const name = (n: string) => `blk.${il}.${n}`;
  const matrix = (n: string, nCols: number, nRows: number) => checkMatrix(file, name(n), nCols, nRows);
  const vector = (n: string, length: number) => checkVector(file, name(n), length);
  const bias = traits.hasQkvBias;
  const fusedQkv = traits.fusedFfnUp && file.tensorsByName.has(name("attn_qkv.weight"));
  const tensors = {
    il,
    attnNorm: vector("attn_norm.weight", nEmbd),
    wq: fusedQkv ? undefined : matrix("attn_q.weight", nEmbd, nQ),
    wk: fusedQkv ? undefined : matrix("attn_k.weight", nEmbd, nKv),
    wv: fusedQkv ? undefined : matrix("attn_v.weight", nEmbd, nKv),
    wqkv: fusedQkv ? matrix("attn_qkv.weight", nEmbd, nQ + 2 * nKv) : undefined,
    wo: matrix("attn_output.weight", nQ, nEmbd),
    bq: bias ? vector("attn_q.bias", nQ) : undefined,
    bk: bias ? vector("attn_k.bias", nKv) : undefined,
    bv: bias ? vector("attn_v.bias", nKv) : undefined,
    qNorm: traits.qkNorm ? vector("attn_q_norm.weight", headDim) : undefined,
    kNorm: traits.qkNorm ? vector("attn_k_norm.weight", headDim) : undefined,
    attnPostNorm: traits.postNorms ? vector("post_attention_norm.weight", nEmbd) : undefined,
    ffnPostNorm: traits.postNorms ? vector("post_ffw_norm.weight", nEmbd) : undefined,
    ffnNorm: vector("ffn_norm.weight", nEmbd),
    ffnGate: traits.fusedFfnUp ? undefined : matrix("ffn_gate.weight", nEmbd, nFf),
    ffnUp: matrix("ffn_up.weight", nEmbd, traits.fusedFfnUp ? 2 * nFf : nFf),
    ffnDown: matrix("ffn_down.weight", nFf, nEmbd),
  };
  const all = Object.values(tensors)
    .filter((v): v is GgufTensorInfo => typeof v === "object" && v !== undefined)
    .sort((a, b) => a.fileOffset - b.fileOffset);
  return { ...tensors, all, nBytes: all.reduce((n, t) => n + t.nBytes, 0) };
}

/** Binds a checked block to its bytes; fused matrices are split into row-range views (no copy). */
export function bindLayer(tensors: LayerTensors, bytesOf: TensorBytes): LayerWeights {
  const m = (info: GgufTensorInfo) => toMatrix(info, bytesOf(info));
  const v = (info: GgufTensorInfo) => toVector(info, bytesOf(info));
  const opt = (info: GgufTensorInfo | undefined) => info && v(info);
  const [wq, wk, wv] = tensors.wqkv ? splitQkv(m(tensors.wqkv), tensors.wo.dims[0]) : [m(req(tensors.wq)), m(req(tensors.wk)), m(req(tensors.wv))];
  const up = m(tensors.ffnUp);
  const [ffnGate, ffnUp] = tensors.ffnGate ? [m(tensors.ffnGate), up] : splitRows(up, [up.nRows / 2, up.nRows / 2]);
  return {
    attnNorm: v(tensors.attnNorm),
    wq,
    wk,
    wv,
    wo: m(tensors.wo),
    bq: opt(tensors.bq),
    bk: opt(tensors.bk),
    bv: opt(tensors.bv),
    qNorm: opt(tensors.qNorm),
    kNorm: opt(tensors.kNorm),
    attnPostNorm: opt(tensors.attnPostNorm),
    ffnPostNorm: opt(tensors.ffnPostNorm),
    ffnNorm: v(tensors.ffnNorm),
    ffnGate,
    ffnUp,
    ffnDown: m(tensors.ffnDown),
  };
}

function req(info: GgufTensorInfo | undefined): GgufTensorInfo {
  if (!info) throw new ModelFormatError("MISSING_TENSOR", "a block has neither separate nor fused Q/K/V projections");
  return info;
}

/** Q, K and V views of a fused [nQ + 2·nKv rows] projection (nQ = attn_output's column count). */
function splitQkv(qkv: WeightMatrix, nQ: number): WeightMatrix[] {
  const nKv = (qkv.nRows - nQ) / 2;
  return splitRows(qkv, [nQ, nKv, nKv]);
}

/** Consecutive row ranges of a matrix as views of its bytes (rows are whole blocks, so each range is a valid matrix). */
function splitRows(w: WeightMatrix, counts: readonly number[]): WeightMatrix[] {
  const nRowBytes = rowBytes(w.type, w.nCols);
  let row = 0;
  return counts.map((nRows) => {
    const part = { name: w.name, type: w.type, nCols: w.nCols, nRows, bytes: w.bytes.subarray(row * nRowBytes, (row + nRows) * nRowBytes) };
    row += nRows;
    return part;
  });
}

/** The head's tensors, checked for presence and shape, with no data read. */
export interface HeadTensors {
  readonly tokenEmbd: GgufTensorInfo;
  readonly outputNorm: GgufTensorInfo;
  /** undefined when the model ties the output to the embeddings */
  readonly output?: GgufTensorInfo;
  readonly ropeFreqs?: GgufTensorInfo;
  /** LongRoPE (phi3 128k): f32 [nRot/2] divisors for contexts beyond / within the original length */
  readonly ropeFactorsLong?: GgufTensorInfo;
  readonly ropeFactorsShort?: GgufTensorInfo;
}

/** Checks the embeddings, final norm, output head and RoPE frequencies without reading them. */
export function headTensors(file: GgufFile, hparams: ModelHparams): HeadTensors {
  const { nEmbd, nVocab } = hparams;
  const optionalVector = (name: string) => (file.tensorsByName.has(name) ? checkVector(file, name, hparams.rope.nRot / 2) : undefined);
  return {
    tokenEmbd: checkMatrix(file, "token_embd.weight", nEmbd, nVocab),
    outputNorm: checkVector(file, "output_norm.weight", nEmbd),
    output: file.tensorsByName.has("output.weight") && !hparams.traits.alwaysTied ? checkMatrix(file, "output.weight", nEmbd, nVocab) : undefined,
    ropeFreqs: optionalVector("rope_freqs.weight"),
    ropeFactorsLong: optionalVector("rope_factors_long.weight"),
    ropeFactorsShort: optionalVector("rope_factors_short.weight"),
  };
}

/**
 * The RoPE frequency divisors a context of `contextSize` positions per sequence uses, as
 * llama_model::get_rope_factors picks them: `rope_freqs` when present, else LongRoPE's long
 * factors when the context exceeds the original one (rope.scaling.original_context_length), else
 * the short ones; undefined when the model has none.
 * @returns the tensor to bind (f32 [nRot/2])
 */
export function ropeFactorsTensor(head: HeadTensors, nCtxOrig: number, contextSize: number): GgufTensorInfo | undefined {
  if (head.ropeFreqs) return head.ropeFreqs;
  return contextSize > nCtxOrig ? head.ropeFactorsLong : head.ropeFactorsShort;
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
  const names = ["token_embd.weight", "output.weight", "output_norm.weight", "rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"];
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
