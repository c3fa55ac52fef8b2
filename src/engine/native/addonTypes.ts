/**
 * The whole surface of the native addon `layerstream_simd` (native/simd/src/core/addon.cc), typed in
 * one place. Every function is synchronous and writes into caller-owned buffers.
 */
import type { GgmlType } from "../ggml/types.js";

/** ISA path names, best first: AVX-512 (F/BW/VL/DQ + VNNI), AVX2 (+FMA, F16C), NEON, scalar C++. */
export type NativeIsa = "avx512" | "avx2" | "neon" | "scalar";

export interface NativeCapabilities {
  /** the ISA path matmul runs on now */
  readonly isa: NativeIsa;
  /** threads in the addon's pool (the calling thread included) */
  readonly threads: number;
  /** how long idle pool threads poll for the next job before they sleep, in µs */
  readonly spinMicros: number;
  /** compiler and version the addon was built with, e.g. "gcc 12.2.0" */
  readonly compiler: string;
  /** every ISA path this CPU and build can run, best first (always ends with "scalar") */
  readonly availableIsas: readonly NativeIsa[];
}

/** Added to a weight type for `matmul` on weights `pack` returned (kPackedTypeFlag, generic/pack.h). */
export const PACKED_TYPE_FLAG = 0x100;

/** Weight types `matmul` accepts (GgmlType numbers). */
export type NativeWeightType =
  | GgmlType.F32
  | GgmlType.F16
  | GgmlType.BF16
  | GgmlType.Q8_0
  | GgmlType.Q4_0
  | GgmlType.Q4_1
  | GgmlType.Q5_0
  | GgmlType.Q5_1
  | GgmlType.Q2_K
  | GgmlType.Q3_K
  | GgmlType.Q4_K
  | GgmlType.Q5_K
  | GgmlType.Q6_K
  | GgmlType.IQ4_NL
  | GgmlType.IQ4_XS;

/**
 * Which of llama.cpp's CPU code paths computes an output (their f32 arithmetic differs): ggml's
 * vec_dot, llamafile's tinyBLAS ("tiled": F32/F16/BF16 and IQ4_NL batches), or the CPU_REPACK buffer's gemv /
 * gemm (Q4_0, Q4_K, Q2_K and IQ4_NL with a multiple of 8 rows; for IQ4_XS "repackedGemv" is the IQ panel gemm of
 * batches of at least 8 tokens).
 */
export type NativeArith = "vecDot" | "tiled" | "repackedGemv" | "repackedGemm";

/**
 * The paths of one matmul shape, as `MatmulRoute` in src/engine/quant/kernel.ts: tokens
 * [0, nBatched) are computed with `batched`, the others with `single`.
 */
export interface NativeRoute {
  readonly batched: NativeArith;
  readonly single: NativeArith;
  readonly nBatched: number;
}

/**
 * Errors thrown by the addon carry a `code`: INVALID_ARGUMENT (TypeError/RangeError: wrong
 * argument type or range), SHAPE_MISMATCH (RangeError: buffer too small, rows not whole blocks),
 * UNSUPPORTED_TYPE, ISA_UNAVAILABLE, OUT_OF_MEMORY.
 */
export interface NativeAddonError extends Error {
  readonly code: "INVALID_ARGUMENT" | "SHAPE_MISMATCH" | "UNSUPPORTED_TYPE" | "ISA_UNAVAILABLE" | "OUT_OF_MEMORY";
}

export interface NativeAddon {
  capabilities(): NativeCapabilities;

  /**
   * posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED): asks the kernel to drop a byte range
   * of an open file from its page cache. False where unavailable (not Linux/FreeBSD) or refused.
   * Optional: builds older than this function lack it.
   */
  adviseDontNeed?(fd: number, offset: number, length: number): boolean;

  /**
   * Resizes the persistent thread pool (1..1024 threads, the caller included). `spinMicros`
   * (0..1e6, default 5000, kept when omitted): how long idle pool threads poll for the next job
   * before they sleep — waking a sleeping thread costs the caller tens of µs in a VM, so keep it
   * above the gaps between the matmuls of a decode step. Polling threads yield their core every
   * 100 µs to whoever else wants it.
   */
  setThreads(nThreads: number, spinMicros?: number): void;

  /**
   * Forces an ISA path (e.g. "scalar" or "avx2" to compare paths in tests); throws
   * ISA_UNAVAILABLE when the CPU or build cannot run it. `LAYERSTREAM_SIMD` sets the initial one.
   */
  setIsa(isa: NativeIsa): void;

  /**
   * out = x · weightᵀ, bit-identical to `matmul` in src/engine/quant/matmul.ts: activations are
   * quantized to the weight type's `vecDotType`, then each output is computed with exactly the
   * f32 operations of the llama.cpp CPU path the TypeScript route picks for this type and shape
   * (ggml vec_dot, llamafile tinyBLAS, repacked gemv/gemm; see native/simd/README.md). Results do
   * not depend on the ISA path or the thread count.
   *
   * @param out f32 [nTokens, nRows]: `out[t * nRows + r]` = dot(weight row r, x row t)
   * @param weight `weightType` [nRows, nCols] (ggml ne0 = nCols contiguous), from `weight[0]`
   * @param x f32 [nTokens, nCols]
   */
  matmul(
    out: Float32Array,
    weight: Uint8Array,
    weightType: NativeWeightType,
    x: Float32Array,
    nCols: number,
    nRows: number,
    nTokens: number,
  ): void;

  /**
   * The route `matmul` takes for a [nRows, nCols] weight of this type times nTokens activation
   * rows (routeFor in native/simd/src/generic/route.cc). It must equal the TypeScript kernels'
   * `WeightKernel.route` for every shape (test/engine/native/route.test.ts). Optional: builds
   * older than this function lack it.
   * @throws NativeAddonError UNSUPPORTED_TYPE (a type without native kernels), INVALID_ARGUMENT
   */
  route?(weightType: NativeWeightType, nCols: number, nRows: number, nTokens: number): NativeRoute;

  /**
   * The weights packed for this ISA path's matmul kernel, as llama.cpp's CPU_REPACK buffer does at
   * load: a new array as long as `weight`, the same bytes in tiles of 16 rows (Q4_0, IQ4_NL and Q4_K
   * with a multiple of 16 rows; native/simd/src/generic/pack.h), so a kernel streams one contiguous run
   * per tile. Null where the path reads the file's row order. `matmul` takes the result with
   * `weightType | PACKED_TYPE_FLAG` and gives the same bits as for `weight` (any ISA path: one
   * without a packed kernel unpacks tile by tile). Optional: builds older than this function lack it.
   */
  pack?(weight: Uint8Array, weightType: NativeWeightType, nCols: number, nRows: number): Uint8Array | null;
  /**
   * A copy of `weight`, as stored, in the memory `pack` writes to (Linux: 2 MiB-aligned, advised
   * for transparent huge pages, so a decode step's pass over the weights misses the TLB 512×
   * less); released when collected. Absent from addons built before it.
   */
  residentCopy?(weight: Uint8Array): Uint8Array;

  /**
   * `matmul` on a libuv worker thread, settling the promise on the JS thread (the buffers must not
   * be touched until then). Not used by the engine — the synchronous call is faster for
   * decode-sized matmuls (see docs/BENCHMARKS.md, "sync vs async"); kept for that measurement
   * (native/simd/bench/matmulTiming.ts). Optional: builds older than this function lack it.
   * @throws NativeAddonError INVALID_ARGUMENT synchronously; other errors reject the promise
   */
  matmulAsync?(
    out: Float32Array,
    weight: Uint8Array,
    weightType: NativeWeightType,
    x: Float32Array,
    nCols: number,
    nRows: number,
    nTokens: number,
  ): Promise<void>;

  /**
   * gate[r·n + i] = silu(gate[r·n + i]) · up[r·n + i] for rows r < `rows`, in place, bit-identical
   * to `siluMulInPlaceTypeScript` (src/engine/model/ops.ts) applied to each row: ggml_v_silu on
   * whole 16-value chunks of a row, x / (1 + f32(Math.exp(−x))) for its last n % 16 values (the
   * addon carries V8's Math.exp). Rows are spread over the thread pool for large batches.
   * @param gate f32 [rows, n] (overwritten)
   * @param up f32 [rows, n]
   * @throws NativeAddonError SHAPE_MISMATCH (buffers too small), INVALID_ARGUMENT
   */
  siluMul(gate: Float32Array, up: Float32Array, n: number, rows: number): void;

  /**
   * RMSNorm of nTokens rows, bit-identical to `rmsNormTypeScript` (src/engine/model/ops.ts).
   * @param out f32 [nTokens, n] (may be x itself)
   * @param x f32 [nTokens, n]
   * @param weight f32 [n]
   * @param eps added to the mean square as in the TypeScript (double add, then f32)
   */
  rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, n: number, nTokens: number, eps: number): void;

  /**
   * Rotary embeddings in place, bit-identical to `applyRopeTypeScript` (src/engine/model/rope.ts)
   * per token: token t's heads start at x[xOffset + t·tokenStride], its cos/sin pairs are
   * cosSin[t·nRot .. (t+1)·nRot) (from RopeTable, consecutive positions).
   * @param x f32 [.., nHeads · headDim] per token
   * @param cosSin f32 [nTokens, nRot]: cos at even, sin at odd indices
   * @param neox pairs (i/2, i/2 + nRot/2) instead of (i, i+1)
   * @throws NativeAddonError SHAPE_MISMATCH (buffers too small, odd nRot, nRot > headDim,
   *   tokenStride < nHeads · headDim with nTokens > 1)
   */
  rope(
    x: Float32Array,
    xOffset: number,
    nTokens: number,
    tokenStride: number,
    nHeads: number,
    headDim: number,
    cosSin: Float32Array,
    nRot: number,
    neox: boolean,
  ): void;

  /**
   * dst[dstOffset + i] = the half bits of src[i] for every value of src, bit-identical to
   * f32ArrayToF16 (src/engine/ggml/fp16.ts: round to nearest even, every NaN ±0x7e00) — the KV
   * cache's stores. Optional: builds older than this function lack it.
   * @throws NativeAddonError SHAPE_MISMATCH (src does not fit in dst at dstOffset)
   */
  toHalf?(src: Float32Array, dst: Uint16Array, dstOffset: number): void;

  /**
   * Causal multi-head attention with grouped KV heads over an F16 KV cache, for nTokens
   * consecutive queries starting at `position` (their keys and values already stored):
   * bit-identical to `attention` in src/engine/model/attention.ts for F16 caches (llama.cpp's
   * non-flash CPU path of the x86 AVX-512 build: half query and probabilities, ggml_vec_dot_f16 or
   * tinyBLAS dots, ggml_v_expf softmax, KQV over n_kv = min(maxPositions, max(256, ⌈(position +
   * nTokens) / 256⌉ · 256)) positions). (token, head) pairs are spread over the thread pool;
   * results do not depend on the thread count.
   *
   * Implemented on every ISA path (AVX-512 intrinsics; one portable C++ kernel compiled for AVX2
   * and for the scalar / NEON paths), all with the same bits. Returns true when `out` was written;
   * false (nothing written; the caller then runs the TypeScript attention) is kept in the
   * contract for paths without a kernel, of which there are none today.
   *
   * @param out f32 [nTokens, nHead · headDim]
   * @param q f32 [nTokens, nHead · headDim] (after RoPE)
   * @param keys f16 bits [≥ position + nTokens, nHeadKv · headDim] (the cache layer, read in place)
   * @param values f16 bits, same layout as keys
   * @param maxPositions the cache's context size (caps n_kv); ≥ position + nTokens
   * @throws NativeAddonError SHAPE_MISMATCH (buffers too small, nHead not a multiple of nHeadKv,
   *   position + nTokens > maxPositions), INVALID_ARGUMENT (types, non-integers, shapes ≥ 2^31)
   */
  attention(
    out: Float32Array,
    q: Float32Array,
    keys: Uint16Array,
    values: Uint16Array,
    position: number,
    nTokens: number,
    nHead: number,
    nHeadKv: number,
    headDim: number,
    maxPositions: number,
  ): boolean;

  /**
   * Flash attention with llama.cpp's CPU numerics over an F16 KV cache: bit-identical to
   * flashAttentionTypeScript (src/engine/model/flashAttention.ts) on every ISA path (one portable
   * C++ kernel, compiled for AVX2 + F16C and for the scalar / NEON paths); (token, head) rows are
   * spread over the thread pool, and results do not depend on the thread count.
   * @param out, q, keys, values, maxPositions as for `attention`
   * @param scale Q·K scale (f32)
   * @param window sliding window (keys position − window + 1 … position), 0 for none
   * @param kvChunks ranges of the split-KV decode path (ggml: its thread count), ≥ 1
   * @throws NativeAddonError SHAPE_MISMATCH, INVALID_ARGUMENT as for `attention`
   */
  flashAttention(
    out: Float32Array,
    q: Float32Array,
    keys: Uint16Array,
    values: Uint16Array,
    position: number,
    nTokens: number,
    nHead: number,
    nHeadKv: number,
    headDim: number,
    maxPositions: number,
    scale: number,
    window: number,
    kvChunks: number,
  ): void;
}
