/**
 * Matrix multiplication over quantized weights with the arithmetic llama.cpp's CPU backend uses on
 * x86-64 (node-llama-cpp's AVX-512 "zen4" build, 1 thread), so that outputs match bit for bit:
 * each activation row is encoded for the weight type, then every (weight row, token) pair is one
 * row dot. Which encoder and dot llama.cpp uses depends on the weight type and shape, as the
 * kernel's `route` says (ggml-cpu.c `ggml_compute_forward_mul_mat`):
 *
 * 1. Q4_0, Q4_K, Q2_K and IQ4_NL weights with a multiple of 8 rows are repacked at load time (CPU_REPACK
 *    buffer): repacked gemm for groups of 4 tokens when there are more than 3, gemv for the rest.
 * 2. Otherwise, with ≥ 2 tokens, llamafile's sgemm takes F32/F16 (row length % 16 == 0),
 *    BF16 (% 32 == 0) — both only when the row count is a multiple of 4 — and Q8_0/Q4_0/Q5_0
 *    (always; its arithmetic equals vec_dot's for these) and IQ4_NL (whose vec_dot differs).
 * 3. IQ4_XS weights with a multiple of 8 rows times ≥ 8 tokens: the IQ panel gemm (ggml-cpu/iqp.cpp).
 * 4. Everything else is ggml's `vec_dot` for each output (Q4_1, Q5_1, Q3_K, Q5_K, Q6_K always).
 *
 * The route depends on nTokens, so to reproduce llama.cpp a caller must multiply the same rows
 * together that llama.cpp does (e.g. llama.cpp's last layer runs its FFN only on the rows it
 * outputs, i.e. with nTokens = 1 for last-token logits).
 *
 * Weight rows are the outer loop, so a weight row is read once for all tokens of a batch.
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
  const route = kernel.route(nCols, nRows, nTokens);
  const { nBatched, batched, single } = route;
  for (let t = 0; t < nTokens; t++) {
    (t < nBatched ? batched : single).activation.quantizeRow(x, t * nCols, act, t * actRowBytes, nCols);
  }

  const batchedDot = batched.dot;
  const singleDot = single.dot;
  for (let r = 0; r < nRows; r++) {
    const wOffset = r * weightRowBytes;
    let t = 0;
    for (; t < nBatched; t++) out[t * nRows + r] = batchedDot(nCols, weight, wOffset, act, t * actRowBytes);
    for (; t < nTokens; t++) out[t * nRows + r] = singleDot(nCols, weight, wOffset, act, t * actRowBytes);
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
