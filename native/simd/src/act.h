// Activations quantized to a weight type's partner type (ggml `vec_dot_type`), in a per-token
// layout of our own (struct-of-arrays, 64-byte aligned parts) that every ISA's kernels read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ls {

enum class ActKind { F32, F16, BF16, Q8_0, Q8_1, Q8_K };

/**
 * Where each part of one token's activations lives, in bytes from the token's start.
 * - F32/F16/BF16: `values` holds nCols values of 4/2/2 bytes.
 * - Q8_0/Q8_1: `qs` int8 [nCols]; `d` f32 [nBlocks] (the f16 scale, widened); Q8_1 also `s` f32
 *   [nBlocks] (f16 d·Σq, widened); `corr` int32 [nBlocks][8] = -corrBias · (sum of each 4
 *   consecutive qs), present when corrBias != 0 (lets kernels dot unsigned weight codes), and then
 *   `corrSum` int32 [nBlocks] = the sum of each block's 8 `corr` (for whole-block integer dots).
 * - Q8_K: `qs` int8 [nCols]; `d` f32 [nBlocks]; `bsums` int16 [nBlocks][16].
 */
struct ActLayout {
  ActKind kind;
  int64_t nCols;
  int64_t nBlocks;
  int corrBias;
  /**
   * Q8_K: tokens [0, q8kPositiveFirstTokens) use the x86 `ggml_quantize_mat_q8_K_4x8` rule for
   * the block's extreme (+amax when any value equals +amax), the rest `quantize_row_q8_K_ref`'s
   * (the first value of largest magnitude).
   */
  int64_t q8kPositiveFirstTokens;
  size_t tokenBytes;
  size_t values, qs, d, s, corr, corrSum, bsums;
};

/** The partner activation kind of a weight type (F32 for unknown types: callers validate first). */
ActKind actKindFor(int weightType);

/** Layout for one token of nCols values (nCols must be whole blocks of the kind). */
ActLayout actLayout(ActKind kind, int64_t nCols, int corrBias);

/**
 * Quantizes tokens [tokenBegin, tokenEnd) of x (f32 [nTokens, nCols]) into act
 * (tokenBytes per token), with the semantics of llama.cpp's x86 build: Q8_0/Q8_1 as the AVX2
 * `quantize_row_q8_0/1` (id = 127/amax, round half to even), Q8_K as `quantize_row_q8_K_ref`
 * (nearest_int), F16/BF16 round to nearest even.
 */
void quantizeActs(const ActLayout& layout, const float* x, uint8_t* act, int64_t tokenBegin, int64_t tokenEnd);

}  // namespace ls
