import type { GgmlType } from "../ggml/types.js";

/**
 * Row (de)quantization for one ggml type. Offsets are in values for Float32Arrays and in bytes
 * for Uint8Arrays; a byte offset may have any alignment. `nValues` must be whole blocks.
 */
export interface RowCodec {
  readonly type: GgmlType;
  /** values per block */
  readonly blockSize: number;
  /** bytes per block */
  readonly blockBytes: number;
  /** `nValues` encoded values at `src[srcByteOffset..]` → f32 `dst[dstOffset..]` */
  dequantizeRow(src: Uint8Array, srcByteOffset: number, dst: Float32Array, dstOffset: number, nValues: number): void;
  /**
   * f32 `src[srcOffset..]` → encoded `dst[dstByteOffset..]`. For weight kernels this is ggml's
   * reference quantizer (`quantize_row_*_ref`, what GGUF files hold); for activation quantizers it
   * is what llama.cpp's CPU backend applies to activations (`from_float`).
   */
  quantizeRow(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number): void;
}

/** Encodes f32 activations into the type a weight type's dot product expects (ggml `from_float`). */
export type ActivationQuantizer = RowCodec;

/**
 * Dot product of one weight row (`nValues` values at `w[wByteOffset..]`) with one activation row
 * already encoded for it (at `act[actByteOffset..]`), as f32.
 */
export type RowDot = (nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number) => number;

/** One way llama.cpp computes a (weight row, activation row) product: the encoder and the dot. */
export interface DotPath {
  readonly activation: ActivationQuantizer;
  readonly dot: RowDot;
}

/**
 * How llama.cpp's CPU backend computes `[nTokens, nCols] · [nRows, nCols]ᵀ` for a weight type:
 * tokens `[0, nBatched)` go through `batched`, the others through `single`.
 */
export interface MatmulRoute {
  readonly nBatched: number;
  readonly batched: DotPath;
  readonly single: DotPath;
}

/** What a weight type needs to take part in a matmul: its codec, partner activation type and row dots. */
export interface WeightKernel extends RowCodec {
  /** type the activations are quantized to before `vecDot` (ggml `vec_dot_type`) */
  readonly vecDotType: GgmlType;
  /**
   * ggml's `vec_dot` for this type with the f32 arithmetic of llama.cpp's x86 SIMD build
   * (lane structure, fused multiply-adds, horizontal sums), activations encoded by
   * `activationQuantizer(vecDotType)`.
   */
  readonly vecDot: RowDot;
  /**
   * The paths llama.cpp takes for a `[nRows, nCols]` weight of this type times `nTokens`
   * activation rows (its vec_dot, llamafile's sgemm, or repacked gemv/gemm); see matmul.ts.
   */
  route(nCols: number, nRows: number, nTokens: number): MatmulRoute;
}
