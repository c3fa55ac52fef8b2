// x86 kernel for IQ4_XS against Q8_K activations, on ymm registers: one row × a few tokens at a
// time, with the two arithmetics llama.cpp's AVX-512 build uses (src/engine/quant/iq4_xs.ts):
// ggml_vec_dot_iq4_xs_q8_K (AVX2 code: per super-block one FMA of d·d_y with each of 8 int32
// lanes, then hsum_float_8) and the IQ panel gemm/gemv of ggml-cpu/iqp.cpp (per super-block one
// FMA of its exact integer total with d·d_y). Shared by the AVX2 and AVX-512 libraries through
// the template argument Cfg (x86/ymm.h); everything here has internal linkage.
#pragma once

#include "generic/iq4.h"
#include "x86/ymm.h"
#include "x86/ymm_kquants_low.h"

namespace ls {
namespace x86 {
namespace {

/** One decoded IQ4_XS super-block: sub-block v's 32 signed table values and its int16 scale (ls − 32). */
struct Iq4XsBlock {
  __m256i values[8], scales[8];

  explicit Iq4XsBlock(const BlockIQ4_XS* x) {
    const __m128i table = _mm_load_si128(reinterpret_cast<const __m128i*>(kIq4Values));
    const __m128i m4 = _mm_set1_epi8(0xF);
    for (int v = 0; v < 8; v++) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->qs + 16 * v));
      const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, m4));
      const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), m4));
      values[v] = _mm256_set_m128i(hi, lo);
      scales[v] = _mm256_set1_epi16(static_cast<int16_t>(iq4XsSubScale(x, v)));
    }
  }

  /** lane k = Σ_v scale_v · Σ value·y over values 32v + 4k..4k+3, exact (|value| ≤ 127, y ≠ −128). */
  __m256i lanes(const int8_t* y) const {
    __m256i s = _mm256_setzero_si256();
    for (int v = 0; v < 8; v++) {
      const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + 32 * v));
      const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(values[v], values[v]), _mm256_sign_epi8(yv, values[v]));
      s = _mm256_add_epi32(s, _mm256_madd_epi16(scales[v], p16));
    }
    return s;
  }
};

/** One row × TT tokens through arithmetic A (VecDot, or RepackedGemv for the IQ panel). */
template <Arith A, int TT>
void iq4xsTile(const MatmulProblem& p, int64_t row, int64_t token0) {
  const TokenActs<TT> a(p, token0);
  const BlockIQ4_XS* w = reinterpret_cast<const BlockIQ4_XS*>(p.weight + row * p.weightRowBytes);
  __m256 acc[TT];
  float accS[TT];
  for (int t = 0; t < TT; t++) { acc[t] = _mm256_setzero_ps(); accS[t] = 0.0f; }
  NextTilePrefetch next(p, row + kPrefetchRowsAhead, 1, p.layout.nBlocks);
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);
    const Iq4XsBlock block(w + b);
    const float xd = halfToF32(&w[b].d);
    for (int t = 0; t < TT; t++) {
      const __m256i lanes = block.lanes(a.qs(t, b));
      const float d = xd * a.d(t, b);
      if (A == Arith::VecDot) acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc[t]);
      else accS[t] = std::fma(static_cast<float>(hsumI8(lanes)), d, accS[t]);
    }
  }
  for (int t = 0; t < TT; t++) p.out[(token0 + t) * p.nRows + row] = A == Arith::VecDot ? hsumF8(acc[t]) : accS[t];
}

template <class Cfg, Arith A>
void iq4xsTokens(const MatmulProblem& p, int64_t row) {
  int64_t t = 0;
  for (; t + Cfg::kTokenTile <= p.nTokens; t += Cfg::kTokenTile) iq4xsTile<A, Cfg::kTokenTile>(p, row, t);
  for (; t < p.nTokens; t++) iq4xsTile<A, 1>(p, row, t);
}

/** IQ4_XS rows [r0, r1), every token, through the arithmetic of its (uniform) route. */
template <class Cfg>
void iq4xsRowsFrom(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    if (p.route.single == Arith::RepackedGemv) iq4xsTokens<Cfg, Arith::RepackedGemv>(p, r);
    else iq4xsTokens<Cfg, Arith::VecDot>(p, r);
  }
}

}  // namespace
}  // namespace x86
}  // namespace ls
