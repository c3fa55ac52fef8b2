/**
 * `--check-tensors` (llama.cpp's flag): every weight read and decoded to f32 — quantized rows
 * dequantized, F32/F16/BF16 converted — and scanned for NaN and ±Inf, which would otherwise turn
 * the whole output into garbage without a word. Tensors are read in chunks of whole rows, so a
 * tensor of any size needs only a few MiB.
 */
import { ggmlTypeName, rowBytes } from "../ggml/types.js";
import type { GgufTensorInfo } from "../gguf/types.js";
import { WEIGHT_KERNELS } from "../quant/table.js";
import { ModelFormatError } from "../errors.js";

/** Reads `nBytes` of a tensor's data starting `byteOffset` bytes into it. */
export type TensorRangeReader = (info: GgufTensorInfo, byteOffset: number, nBytes: number) => Uint8Array;

export interface NonFiniteWeight {
  readonly tensor: string;
  readonly kind: "NaN" | "Inf";
  /** element index inside the tensor */
  readonly index: number;
}

export interface TensorScan {
  /** the first non-finite value of each tensor that has one */
  readonly problems: readonly NonFiniteWeight[];
  /** tensors of types layerstream cannot decode (not scanned) */
  readonly skipped: readonly string[];
  readonly nScanned: number;
}

/** Bytes read at a time. */
const CHUNK_BYTES = 8 << 20;

/** Scans `tensors`; with `stopAtFirst`, returns at the first tensor with a problem. */
export function scanTensors(tensors: readonly GgufTensorInfo[], read: TensorRangeReader, { stopAtFirst = false } = {}): TensorScan {
  const problems: NonFiniteWeight[] = [];
  const skipped: string[] = [];
  let nScanned = 0;
  for (const info of tensors) {
    if (!WEIGHT_KERNELS.has(info.type)) {
      skipped.push(`${info.name} (${ggmlTypeName(info.type)})`);
      continue;
    }
    nScanned++;
    const problem = scanTensor(info, read);
    if (problem) {
      problems.push(problem);
      if (stopAtFirst) break;
    }
  }
  return { problems, skipped, nScanned };
}

/** The first non-finite value of one tensor, or undefined. */
export function scanTensor(info: GgufTensorInfo, read: TensorRangeReader): NonFiniteWeight | undefined {
  const kernel = WEIGHT_KERNELS.get(info.type)!;
  const nCols = info.dims[0];
  if (nCols === 0 || info.nElements === 0) return undefined;
  const nRows = info.nElements / nCols;
  const nRowBytes = rowBytes(info.type, nCols);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / nRowBytes));
  const row = new Float32Array(nCols);
  for (let r0 = 0; r0 < nRows; r0 += rowsPerChunk) {
    const nChunkRows = Math.min(rowsPerChunk, nRows - r0);
    const bytes = read(info, r0 * nRowBytes, nChunkRows * nRowBytes);
    for (let r = 0; r < nChunkRows; r++) {
      kernel.dequantizeRow(bytes, r * nRowBytes, row, 0, nCols);
      for (let c = 0; c < nCols; c++) {
        const v = row[c];
        if (v - v !== 0) return { tensor: info.name, kind: Number.isNaN(v) ? "NaN" : "Inf", index: (r0 + r) * nCols + c };
      }
    }
  }
  return undefined;
}

/** "tensor "blk.0.attn_q.weight" holds NaN (element 1234 of 4096)" */
export function describeNonFinite(problem: NonFiniteWeight, tensors: ReadonlyMap<string, GgufTensorInfo>): string {
  const total = tensors.get(problem.tensor)?.nElements;
  return `tensor "${problem.tensor}" holds ${problem.kind} (element ${problem.index}${total === undefined ? "" : ` of ${total}`})`;
}

/** @throws ModelFormatError NON_FINITE_WEIGHTS naming the first tensor with a NaN or Inf */
export function checkTensorsFinite(tensors: readonly GgufTensorInfo[], byName: ReadonlyMap<string, GgufTensorInfo>, read: TensorRangeReader): void {
  const [problem] = scanTensors(tensors, read, { stopAtFirst: true }).problems;
  if (problem) throw new ModelFormatError("NON_FINITE_WEIGHTS", `${describeNonFinite(problem, byName)}: the model would compute garbage`);
}
