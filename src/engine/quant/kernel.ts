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
  /** f32 `src[srcOffset..]` → encoded `dst[dstByteOffset..]`, with ggml's reference quantizer (`quantize_row_*_ref`). */
  quantizeRow(src: Float32Array, srcOffset: number, dst: Uint8Array, dstByteOffset: number, nValues: number): void;
}

/** Encodes f32 activations into the type a weight type's dot product expects (ggml `from_float`). */
export type ActivationQuantizer = RowCodec;

/** What a weight type needs to take part in a matmul: its codec, partner activation type and row dot. */
export interface WeightKernel extends RowCodec {
  /** type the activations are quantized to before `vecDot` (ggml `vec_dot_type`) */
  readonly vecDotType: GgmlType;
  /**
   * Dot product of one weight row (`nValues` values of this type at `w[wByteOffset..]`) with one
   * activation row already encoded as `vecDotType` (at `act[actByteOffset..]`), with the arithmetic
   * of ggml's scalar `ggml_vec_dot_*` (f32 rounding emulated where ggml rounds to f32).
   */
  vecDot(nValues: number, w: Uint8Array, wByteOffset: number, act: Uint8Array, actByteOffset: number): number;
}
