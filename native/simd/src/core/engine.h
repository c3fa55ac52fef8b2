// The addon's state and entry points, independent of N-API: ISA choice, thread pool, activation
// scratch, the matmul and attention driver (core/engine.cc) and the row operations
// (core/engine_ops.cc). Every entry point checks its sizes and returns a Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "generic/kernels.h"

namespace ls {

class ThreadPool;

/** Result of a call: empty `code` on success, else an error code and message for JS. */
struct Status {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
};

struct Capabilities {
  Isa isa;
  int threads;
  int spinMicros;
  const char* compiler;
  bool available[4];  // indexed by Isa
};

/**
 * The ISA path and the thread pool, held under the engine's lock for the duration of one call
 * (for entry points outside engine.cc: engine_ops.cc).
 */
struct EngineLease {
  std::unique_lock<std::mutex> lock;
  Isa isa;
  ThreadPool* pool;
};

EngineLease leaseEngine();

/** Reads LAYERSTREAM_SIMD once and starts the pool with `defaultThreads` threads. */
void engineInit(int defaultThreads);

Capabilities engineCapabilities();

/** Default for how long idle workers poll before sleeping (covers the gaps of a decode step). */
constexpr int kDefaultSpinMicros = 5000;

/** Resizes the pool; spinMicros < 0 keeps the current spin time. */
Status engineSetThreads(int nThreads, int spinMicros);

Status engineSetIsa(const char* name);

/**
 * The route matmul takes for this weight type and shape (routeFor): UNSUPPORTED_TYPE for a type
 * without kernels, INVALID_ARGUMENT for a negative size.
 */
Status engineRoute(int weightType, int64_t nCols, int64_t nRows, int64_t nTokens, Route* route);

/**
 * out f32 [nTokens, nRows] = x f32 [nTokens, nCols] · weight [nRows, nCols]ᵀ; sizes checked.
 * weightType | kPackedTypeFlag: weight is packed (enginePack); a path without a kernel for the
 * layout unpacks it tile by tile.
 */
Status engineMatmul(float* out, size_t outLength, const uint8_t* weight, size_t weightBytes, int weightType,
                    const float* x, size_t xLength, int64_t nCols, int64_t nRows, int64_t nTokens);

/** Whether enginePack would pack weights of this type and shape on the current ISA path. */
bool enginePacks(int weightType, int64_t nCols, int64_t nRows);

/**
 * Packs weight [nRows, nCols] of weightType into dst (as many bytes; generic/pack.h) when the
 * current ISA path's kernel reads a packed layout for it; `*packed` says whether it did (dst is
 * untouched otherwise). matmul then takes dst with weightType | kPackedTypeFlag.
 */
Status enginePack(const uint8_t* src, size_t srcBytes, uint8_t* dst, size_t dstBytes, int weightType, int64_t nCols, int64_t nRows, bool* packed);

/**
 * Causal multi-head attention over an F16 KV cache, bit-identical to the TypeScript `attention`
 * (src/engine/model/attention.ts) for F16 caches, on every ISA path (attentionKernelFor in
 * engine.cc). `*computed` is true when out was written; false (nothing written) would tell the
 * caller to use its own code — no ISA path declines today.
 * out, q f32 [nTokens, nHead * headDim]; keys, values f16 [≥ position + nTokens, nHeadKv * headDim].
 */
Status engineAttention(float* out, size_t outLength, const float* q, size_t qLength, const uint16_t* keys,
                       size_t keysLength, const uint16_t* values, size_t valuesLength, int64_t position,
                       int64_t nTokens, int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions,
                       bool* computed);

/**
 * Flash attention with llama.cpp's CPU numerics over an F16 KV cache, bit-identical to
 * flashAttentionTypeScript (src/engine/model/flashAttention.ts) on every ISA path; shapes as
 * engineAttention. `scale` multiplies Q·K; `window` > 0 limits keys to the last `window`
 * positions; `kvChunks` is the split-KV decode path's range count (ggml: its thread count).
 */
Status engineFlashAttention(float* out, size_t outLength, const float* q, size_t qLength, const uint16_t* keys,
                            size_t keysLength, const uint16_t* values, size_t valuesLength, int64_t position,
                            int64_t nTokens, int64_t nHead, int64_t nHeadKv, int64_t headDim, int64_t maxPositions,
                            float scale, int64_t window, int64_t kvChunks);

// ---- row operations (generic/ops.h): the ISA's kernels, rows spread over the pool for batches ----

/** dst[dstOffset + i] = half bits of src[i] (RowOps::toHalfRow), every value of src. */
Status engineToHalf(uint16_t* dst, size_t dstLength, int64_t dstOffset, const float* src, size_t srcLength);

/** gate f32 [rows, n] = silu(gate) · up (up f32 [rows, n]), row by row (RowOps::siluMulRow). */
Status engineSiluMul(float* gate, size_t gateLength, const float* up, size_t upLength, int64_t n, int64_t rows);

/** out f32 [nTokens, n] = rmsNormRow of each row of x f32 [nTokens, n] with weight f32 [n]. */
Status engineRmsNorm(float* out, size_t outLength, const float* x, size_t xLength, const float* weight, size_t weightLength,
                     int64_t n, int64_t nTokens, double eps);

/**
 * RoPE over nTokens tokens of x, token t starting at x[t * tokenStride] (nHeads heads, headDim
 * apart), with the cos/sin row t of cosSin f32 [nTokens, nRot] (RowOps::ropeToken).
 */
Status engineRope(float* x, size_t xLength, int64_t nTokens, int64_t tokenStride, int64_t nHeads, int64_t headDim,
                  const float* cosSin, size_t cosSinLength, int64_t nRot, bool neox);

}  // namespace ls
