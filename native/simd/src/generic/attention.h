// Attention over an F16 KV cache (see engineAttention in core/engine.h): the problem of one call
// and the per-ISA kernels that compute one (token, query heads of one KV head) task of it, all
// with the same bits: x86/avx512_attention.cc (intrinsics) and generic/attention_lanes.h
// (portable lanes, compiled for AVX2 by x86/avx2_attention.cc and for the scalar and NEON paths
// by generic/attention.cc).
//
// Includes only standard headers; compiled with different target flags, so every function
// defined here is `static inline`.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ls {

/** One attention call; shapes as in engineAttention. */
struct AttentionProblem {
  float* out;              // f32 [nTokens, nHead * headDim]
  const float* q;          // f32 [nTokens, nHead * headDim]
  const uint16_t* keys;    // f16 [≥ position + nTokens, nHeadKv * headDim]
  const uint16_t* values;  // f16, same layout as keys
  int64_t position;
  int64_t nTokens;
  int64_t nHead;
  int64_t nHeadKv;
  int64_t headDim;
  int64_t nKvPadded;       // llama.cpp's n_kv: the length of the KQV dots
  float scale;             // 1/√headDim as f32
};

/** Query token t, head h of a problem: where its rows are and which of llama.cpp's dot shapes it takes. */
struct HeadShape {
  int64_t headDim;
  int64_t headDimPadded;  // headDim rounded up to 16
  int64_t nQ;             // floats per token of q and out
  int64_t nKv;            // halves per position of keys and values
  int64_t kvOffset;       // the head's KV column 0 (its KV head's)
  int64_t nVisible;       // positions the token sees: position + t + 1
  bool kqTiled;           // K·Q as tinyBLAS (batches, headDim % 16 == 0), else ggml_vec_dot_f16
  bool kqvTiled;          // KQV as tinyBLAS (batches, headDim % 4 == 0, n_kv % 16 == 0), else vec_dot
  int64_t nLanes;         // KQV lane accumulators: 16 (tinyBLAS) or 64 (vec_dot: 4 × 16)
  int64_t jLanes;         // positions below it go through the lanes; the rest (vec_dot leftovers) in double
};

static inline HeadShape headShape(const AttentionProblem& p, int64_t t, int64_t h) {
  HeadShape s;
  s.headDim = p.headDim;
  s.headDimPadded = (p.headDim + 15) & ~int64_t(15);
  s.nQ = p.nHead * p.headDim;
  s.nKv = p.nHeadKv * p.headDim;
  s.kvOffset = h / (p.nHead / p.nHeadKv) * p.headDim;
  s.nVisible = p.position + t + 1;
  const bool batch = p.nTokens >= 2;
  s.kqTiled = batch && p.headDim % 16 == 0;
  s.kqvTiled = batch && p.headDim % 4 == 0 && p.nKvPadded % 16 == 0;
  s.nLanes = s.kqvTiled ? 16 : 64;
  s.jLanes = std::min(s.nVisible, s.kqvTiled ? p.nKvPadded : p.nKvPadded & ~int64_t(63));
  return s;
}

/** Keys per block of widened V rows that the AVX-512 kernel shares between the heads of a task. */
static inline int64_t attentionValueBlockKeys(int64_t headDimPadded) {
  return headDimPadded <= 64 ? 128 : 64;  // a multiple of 64 (the lane count), ≤ 32 KiB of f32
}

/**
 * Floats of per-thread scratch a kernel needs for tasks of `nHeads` query heads: per head the
 * scores, the query and 64 lane accumulators per output; once one widened K/V row (portable
 * kernel) and a block of widened K/V rows (AVX-512 kernel, used when nHeads > 1).
 */
static inline int64_t attentionScratchFloats(const AttentionProblem& p, int64_t nHeads) {
  const int64_t headDimPadded = (p.headDim + 15) & ~int64_t(15);
  const int64_t block = nHeads > 1 ? attentionValueBlockKeys(headDimPadded) * headDimPadded : 0;
  return nHeads * (((p.nKvPadded + 15) & ~int64_t(15)) + 65 * headDimPadded) + headDimPadded + block;
}

/**
 * Computes out for query token t and heads h0 .. h0 + nHeads - 1, which share one KV head or,
 * without GQA (nHead == nHeadKv), are consecutive heads with a KV head each;
 * `scratch` has attentionScratchFloats(problem, nHeads) floats (no alignment needed). Every head's
 * output is the same, bit for bit, whatever the heads of the task.
 */
typedef void (*AttentionKernel)(const AttentionProblem& problem, int64_t t, int64_t h0, int64_t nHeads, float* scratch);

/**
 * One flash-attention call (llama.cpp's CPU flash attention, see src/engine/model/flashAttention.ts):
 * shapes as AttentionProblem; the kernel computes one (token, query head) row.
 */
struct FlashProblem {
  float* out;
  const float* q;
  const uint16_t* keys;
  const uint16_t* values;
  int64_t position;
  int64_t nTokens;
  int64_t nHead;
  int64_t nHeadKv;
  int64_t headDim;
  int64_t nKvPadded;
  float scale;     // Q·K scale
  int64_t window;  // sliding window (keys p − window + 1 … p), 0: none
  int64_t kvChunks;  // ranges of the split-KV decode path (ggml: its thread count)
};

/** Rows per task of the tiled path (they share each widened K/V tile). */
constexpr int64_t kFlashBlockRows = 16;

/** Whether a problem takes ggml's tiled path: batches of ≥ 64 rows, headDim % 16 == 0. */
static inline bool flashTiled(const FlashProblem& p) { return p.nTokens >= 64 && p.headDim % 16 == 0; }

/** Floats of per-thread scratch a flash-attention task needs: the tiled path's tiles, or one block of a row's exps; not growing with the context. */
static inline int64_t flashScratchFloats(const FlashProblem& p) { return (2 * 64 + kFlashBlockRows + 5) * p.headDim + 64 + 2 * 256; }

/** Computes rows t0 … t0 + nRows − 1 (nRows ≤ kFlashBlockRows) of query head h; every row's bits are independent of the split. */
typedef void (*FlashKernel)(const FlashProblem& problem, int64_t t0, int64_t nRows, int64_t h, float* scratch);
/** Flash attention compiled for AVX-512, for AVX2 + FMA + F16C (nullptr off x86), and with baseline flags. */
FlashKernel avx512FlashKernel();
FlashKernel avx2FlashKernel();
FlashKernel scalarFlashKernel();

/** The AVX-512 kernel, or nullptr when the build has none (non-x86). */
AttentionKernel avx512AttentionKernel();
/** The portable kernel compiled for AVX2 + FMA + F16C, or nullptr when the build has none (non-x86). */
AttentionKernel avx2AttentionKernel();
/** The portable kernel with baseline flags: the scalar and NEON paths (every build has it). */
AttentionKernel scalarAttentionKernel();

}  // namespace ls
