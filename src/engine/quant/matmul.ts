/**
 * Matrix multiplication over quantized weights, the way ggml's CPU `mul_mat` does it: each
 * activation row is quantized once to the weight type's `vecDotType`, then every (weight row,
 * token) pair is one `vecDot`. Weight rows are the outer loop, so a weight row is read once for
 * all tokens of a batch (prefill).
 */
import { type GgmlType, ggmlTypeName, rowBytes } from "../ggml/types.js";
import { TensorShapeError } from "./errors.js";
import { activationQuantizer, weightKernel } from "./table.js";

/** Reusable buffer for quantized activations; grows on demand, never shrinks. */
export class MatmulScratch {
  private buffer = new Uint8Array(0);

  /** A buffer of at least `nBytes` bytes (4-byte aligned at its start). */
  bytes(nBytes: number): Uint8Array {
    if (this.buffer.length < nBytes) this.buffer = new Uint8Array(Math.max(nBytes, this.buffer.length * 2));
    return this.buffer;
  }
}

/**
 * out = x · weightᵀ.
 *
 * @param out f32 [nTokens, nRows]: `out[t * nRows + r]` = dot(weight row r, x row t)
 * @param weight `weightType` [nRows, nCols] (ggml ne0 = nCols contiguous), starting at `weight[0]`
 * @param x f32 [nTokens, nCols]
 * @param scratch reused for the quantized activations; without it, each call allocates
 */
export function matmul(
  out: Float32Array,
  weight: Uint8Array,
  weightType: GgmlType,
  x: Float32Array,
  nCols: number,
  nRows: number,
  nTokens: number,
  scratch?: MatmulScratch,
): void {
  const kernel = weightKernel(weightType);
  const actQuantizer = activationQuantizer(kernel.vecDotType);
  if (nCols % kernel.blockSize !== 0 || nCols % actQuantizer.blockSize !== 0) {
    throw new TensorShapeError(
      `matmul: ${ggmlTypeName(weightType)} rows of ${nCols} values are not whole blocks of ${kernel.blockSize} (activations ${ggmlTypeName(kernel.vecDotType)}: ${actQuantizer.blockSize})`,
    );
  }
  const weightRowBytes = rowBytes(weightType, nCols);
  const actRowBytes = rowBytes(kernel.vecDotType, nCols);
  if (weight.length < nRows * weightRowBytes) {
    throw new TensorShapeError(`matmul: weight has ${weight.length} bytes, [${nRows}, ${nCols}] ${ggmlTypeName(weightType)} needs ${nRows * weightRowBytes}`);
  }
  if (x.length < nTokens * nCols) throw new TensorShapeError(`matmul: x has ${x.length} values, needs ${nTokens * nCols}`);
  if (out.length < nTokens * nRows) throw new TensorShapeError(`matmul: out has ${out.length} values, needs ${nTokens * nRows}`);

  const act = (scratch ?? new MatmulScratch()).bytes(nTokens * actRowBytes);
  for (let t = 0; t < nTokens; t++) actQuantizer.quantizeRow(x, t * nCols, act, t * actRowBytes, nCols);

  for (let r = 0; r < nRows; r++) {
    const wOffset = r * weightRowBytes;
    for (let t = 0; t < nTokens; t++) {
      out[t * nRows + r] = kernel.vecDot(nCols, weight, wOffset, act, t * actRowBytes);
    }
  }
}

/**
 * Decodes `nValues` consecutive values (whole rows, e.g. one embedding row) of `type` starting
 * at `src[byteOffset]` into f32 `dst[dstOffset..]` (ggml `get_rows` → f32).
 */
export function dequantizeRows(
  type: GgmlType,
  src: Uint8Array,
  byteOffset: number,
  dst: Float32Array,
  nValues: number,
  dstOffset = 0,
): void {
  weightKernel(type).dequantizeRow(src, byteOffset, dst, dstOffset, nValues);
}
