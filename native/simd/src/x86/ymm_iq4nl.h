// x86 kernels for IQ4_NL against Q8_0 activations, on ymm registers, with the three arithmetics of
// llama.cpp's AVX-512 build (src/engine/quant/iq4_nl.ts, generic/scalar_iq4.cc):
// - a multiple of 8 rows: the repacked iq4_nl_8x8 gemv/gemm, Q4_0's repacked template
//   (repackedRows in x86/ymm_block32.h): per block one FMA of its exact integer sum with d_w·d_y;
// - otherwise batches: llamafile's tinyBLAS_Q0_AVX, one 8-lane accumulator per output, the
//   arithmetic of the block-32 vec_dot tiles (block32VecTile in x86/ymm_block32.h);
// - otherwise one token: ggml_vec_dot_iq4_nl_q8_0, two 8-lane accumulators (even and odd blocks)
//   added before hsum_float_8, an odd last block in one scalar FMA of its whole sum (below).
// The codes are ggml's table values looked up with pshufb (B32Traits<Cfg, B32::IQ4_NL>). Shared by
// the AVX2 and AVX-512 libraries through the template argument Cfg (x86/ymm.h); everything here
// has internal linkage.
#pragma once

#include "x86/ymm.h"
#include "x86/ymm_block32.h"

namespace ls {
namespace x86 {
namespace {

/** acc[r] = fma(d_w·d_y, the 8 int32 lanes of block b of row r as f32, acc[r]) for R rows, one token. */
template <class Cfg, int R>
inline void iq4nlVecStep(const uint8_t* const rows[R], const uint8_t* a, const ActLayout& l, int64_t b, __m256 acc[R]) {
  typedef B32Traits<Cfg, B32::IQ4_NL> Tr;
  const __m256i y = _mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.qs + 32 * b));
  const __m256i corr = block32Corr<Cfg, B32::IQ4_NL>(reinterpret_cast<const int32_t*>(a + l.corr) + 8 * b);
  const float da = reinterpret_cast<const float*>(a + l.d)[b];
  for (int r = 0; r < R; r++) {
    const uint8_t* block = rows[r] + b * Tr::kBytes;
    const __m256 q = _mm256_cvtepi32_ps(block32LanesWith<Cfg, B32::IQ4_NL>(Tr::codes(block), y, corr));
    acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(halfToF32(block) * da), q, acc[r]);
  }
}

/**
 * ggml_vec_dot_iq4_nl_q8_0, R rows × one token: blocks in pairs, the even one into acc1, the odd
 * one into acc2; out = hsum_float_8(acc1 + acc2), then an odd last block adds
 * fma(d_w·d_y, its exact Σ q·y, out).
 */
template <class Cfg, int R>
void iq4nlVecTile(const MatmulProblem& p, int64_t row0, int64_t token) {
  typedef B32Traits<Cfg, B32::IQ4_NL> Tr;
  const ActLayout& l = p.layout;
  const uint8_t* a = p.act + token * l.tokenBytes;
  const uint8_t* rows[R];
  __m256 acc1[R], acc2[R];
  for (int r = 0; r < R; r++) {
    rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
    acc1[r] = _mm256_setzero_ps();
    acc2[r] = _mm256_setzero_ps();
  }
  NextTilePrefetch next(p, row0 + R, R, l.nBlocks);
  int64_t b = 0;
  for (; b + 1 < l.nBlocks; b += 2) {
    next.step(b);
    next.step(b + 1);
    iq4nlVecStep<Cfg, R>(rows, a, l, b, acc1);
    iq4nlVecStep<Cfg, R>(rows, a, l, b + 1, acc2);
  }
  float* out = p.out + token * p.nRows + row0;
  for (int r = 0; r < R; r++) {
    float sum = hsumF8(_mm256_add_ps(acc1[r], acc2[r]));
    if (b < l.nBlocks) {
      const uint8_t* block = rows[r] + b * Tr::kBytes;
      const __m256i y = _mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.qs + 32 * b));
      const int whole = hsumI8(block32Lanes<Cfg, B32::IQ4_NL>(Tr::codes(block), y, reinterpret_cast<const int32_t*>(a + l.corr) + 8 * b));
      sum = std::fma(halfToF32(block) * reinterpret_cast<const float*>(a + l.d)[b], static_cast<float>(whole), sum);
    }
    out[r] = sum;
  }
}

/** R rows × every token: tokens [0, nTiled) through tinyBLAS tiles, the rest through vec_dot. */
template <class Cfg, int R>
void iq4nlRowTokens(const MatmulProblem& p, int64_t row0, int64_t nTiled) {
  int64_t t = 0;
  for (; t + Cfg::kTokenTile <= nTiled; t += Cfg::kTokenTile) block32VecTile<Cfg, B32::IQ4_NL, R, Cfg::kTokenTile>(p, row0, t);
  for (; t < nTiled; t++) block32VecTile<Cfg, B32::IQ4_NL, R, 1>(p, row0, t);
  for (; t < p.nTokens; t++) iq4nlVecTile<Cfg, R>(p, row0, t);
}

/** IQ4_NL rows [r0, r1), every token, through the arithmetic of its route. */
template <class Cfg>
void iq4nlRowsFrom(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.route.single == Arith::RepackedGemv) {
    repackedRows<Cfg, B32::IQ4_NL>(p, r0, r1);
    return;
  }
  const int64_t nTiled = p.route.batched == Arith::Tiled ? p.route.nBatched : 0;
  constexpr int R = 4;
  int64_t r = r0;
  for (; r + R <= r1; r += R) iq4nlRowTokens<Cfg, R>(p, r, nTiled);
  for (; r < r1; r++) iq4nlRowTokens<Cfg, 1>(p, r, nTiled);
}

}  // namespace
}  // namespace x86
}  // namespace ls
