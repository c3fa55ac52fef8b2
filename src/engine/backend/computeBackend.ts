/**
 * The compute backend: the five kernels a transformer block and the output head run —
 * matmul, attention, RMSNorm, SiLU·mul and RoPE — chosen once (the native SIMD addon, or the
 * TypeScript reference it is tested against; both give the same bits) and passed to the model
 * and its runners. Nothing else in the engine asks which kernels are in use.
 */
import type { GgmlType } from "../ggml/types.js";
import type { MatmulScratch } from "../quant/matmul.js";
import type { KvCache } from "../model/kvCache.js";
import type { AttentionScratch, AttentionShape } from "../model/attention.js";
import type { RopeTable } from "../model/rope.js";

/** A weight type as `matmul` takes it: a ggml type, or a backend's packed layout of one (PackedWeight.matmulType). */
export type MatmulType = GgmlType | PackedMatmulType;
/** A backend-private type number for packed weights; only that backend's matmul takes it. */
export type PackedMatmulType = number & { readonly packedLayout: true };

/** Weights rearranged for one backend's matmul: the same values, another byte order. */
export interface PackedWeight {
  readonly bytes: Uint8Array;
  /** what to pass to this backend's matmul with `bytes` */
  readonly matmulType: PackedMatmulType;
}

export interface ComputeBackend {
  readonly kind: "native" | "typescript";
  /** e.g. "native avx512, 2 threads" or "typescript, 1 thread" */
  readonly description: string;
  readonly threads: number;
  /**
   * out = x · weightᵀ: out f32 [nTokens, nRows], weight weightType [nRows, nCols], x f32 [nTokens, nCols].
   * @param scratch quantized activations (TypeScript kernels); reused between calls
   */
  matmul(out: Float32Array, weight: Uint8Array, weightType: MatmulType, x: Float32Array, nCols: number, nRows: number, nTokens: number, scratch: MatmulScratch): void;
  /**
   * weight [nRows, nCols] rearranged for this backend's matmul (llama.cpp's load-time repack: one
   * contiguous stream per tile of rows instead of one per row), or null when it reads the weights
   * as stored. The packed copy gives the same bits.
   */
  pack(weight: Uint8Array, weightType: GgmlType, nCols: number, nRows: number): PackedWeight | null;
  /**
   * Where `pack` returned null: a copy of the weights, as stored, in memory this backend's matmul
   * streams faster than the file's pages (the native addon: 2 MiB pages); absent when it has none.
   */
  readonly residentCopy?: (weight: Uint8Array) => Uint8Array;
  /**
   * Causal grouped-query attention over the cache for nTokens consecutive queries at `position`.
   * @param out f32 [nTokens, nHead · headDim]
   * @param q f32 [nTokens, nHead · headDim] (after RoPE)
   */
  attention(out: Float32Array, q: Float32Array, cache: KvCache, layer: number, position: number, nTokens: number, shape: AttentionShape, scratch: AttentionScratch): void;
  /** out f32 [nTokens, n] = RMS-normalized x f32 [nTokens, n] × weight f32 [n] (out may alias x) */
  rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, n: number, nTokens: number, eps: number): void;
  /** gate f32 [rows, n] = silu(gate) × up, in place */
  siluMul(gate: Float32Array, up: Float32Array, n: number, rows: number): void;
  /** gate f32 [rows, n] = gelu(gate) × up, in place (ggml_geglu: tanh GELU through ggml's f16 table) */
  geluMul(gate: Float32Array, up: Float32Array, n: number, rows: number): void;
  /** RoPE in place on x f32 [nTokens, nHeads · headDim] at positions position … position + nTokens − 1 */
  rope(x: Float32Array, nTokens: number, nHeads: number, headDim: number, table: RopeTable, position: number): void;
  /** dst[dstOffset + i] = f32ToF16(src[i]) for every value of src (the KV cache's stores; f32ArrayToF16's bits) */
  toHalf(src: Float32Array, dst: Uint16Array, dstOffset: number): void;
}
