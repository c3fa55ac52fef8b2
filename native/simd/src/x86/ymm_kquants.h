// x86 kernels for the K-quants (Q4_K, Q6_K) against Q8_K activations, on ymm registers: one row ×
// a few tokens at a time, for each of Q4_K's three arithmetics (vec_dot, repacked gemv, repacked
// gemm) and Q6_K's vec_dot. Shared by the AVX2 and AVX-512 libraries through the template
// argument Cfg (x86/ymm.h); everything here has internal linkage.
#pragma once

#include "x86/ymm.h"

namespace ls {
namespace x86 {
namespace {

/** A Q4_K super-block's 8 scales (int16, for the pair products) and 8 mins. */
struct Q4kScales {
  alignas(32) int16_t sc[16];
  __m128i mins;
  explicit Q4kScales(const BlockQ4_K* x) {
    const __m256i scalesMins = q4kScalesMins(x->scales);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sc), scalesMins);
    mins = _mm256_extracti128_si256(scalesMins, 1);
  }
  /** lane j = m[2j]·S[2j] + m[2j+1]·S[2j+1] (S: the activations' 32-value sums) */
  __m128i minProducts(const uint8_t* act, const ActLayout& l, int64_t b) const {
    return _mm_madd_epi16(mins, q8kSubSums(reinterpret_cast<const int16_t*>(act + l.bsums) + 16 * b));
  }
};

/** The 64 codes j of a Q4_K super-block (low nibbles: values 0..31, high: 32..63) and their scales. */
struct Q4kQuarter {
  __m256i lo, hi, scaleLo, scaleHi;
  Q4kQuarter(const BlockQ4_K* x, const Q4kScales& scales, int j) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * j));
    lo = _mm256_and_si256(q4, m4);
    hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
    scaleLo = _mm256_set1_epi16(scales.sc[2 * j]);
    scaleHi = _mm256_set1_epi16(scales.sc[2 * j + 1]);
  }
  /** 8 int32 lanes of scaleLo·Σ(lo·y) + scaleHi·Σ(hi·y) over 4 values each; y: the 64 activations. */
  __m256i lanes(const int8_t* y) const {
    const __m256i pl = _mm256_madd_epi16(scaleLo, _mm256_maddubs_epi16(lo, _mm256_load_si256(reinterpret_cast<const __m256i*>(y))));
    const __m256i ph = _mm256_madd_epi16(scaleHi, _mm256_maddubs_epi16(hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(y + 32))));
    return _mm256_add_epi32(pl, ph);
  }
};

/**
 * Q4_K rows × TT tokens, for each of its three arithmetics (vec_dot, repacked gemv, repacked
 * gemm). The integer sums (lanes of scale·Σq·y) are the same; only the f32 accumulation differs.
 */
template <Arith A, int TT>
void q4kTile(const MatmulProblem& p, int64_t row, int64_t token0) {
  const ActLayout& l = p.layout;
  const uint8_t* w = p.weight + row * p.weightRowBytes;
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  __m256 acc[TT];
  __m128 accm[TT];
  float accS[TT], accMinS[TT];
  for (int t = 0; t < TT; t++) { acc[t] = _mm256_setzero_ps(); accm[t] = _mm_setzero_ps(); accS[t] = accMinS[t] = 0.0f; }
  NextTilePrefetch next(p, row + kPrefetchRowsAhead, 1, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);  // the first token group streams the tile in
    const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(w) + b;
    const float xd = halfToF32(&x->d), xdmin = halfToF32(&x->dmin);
    const Q4kScales scales(x);
    __m256i sumi[TT];
    for (int t = 0; t < TT; t++) sumi[t] = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      const Q4kQuarter quarter(x, scales, j);
      for (int t = 0; t < TT; t++) {
        const __m256i pair = quarter.lanes(reinterpret_cast<const int8_t*>(acts[t] + l.qs) + b * kQK_K + 64 * j);
        if (A == Arith::RepackedGemm) {
          const float ya = reinterpret_cast<const float*>(acts[t] + l.d)[b];
          accS[t] = std::fma(static_cast<float>(hsumI8(pair)), xd * ya, accS[t]);
          alignas(16) int32_t prods[4];
          _mm_store_si128(reinterpret_cast<__m128i*>(prods), scales.minProducts(acts[t], l, b));
          accMinS[t] = std::fma(static_cast<float>(prods[j]), xdmin * ya, accMinS[t]);
        } else {
          sumi[t] = _mm256_add_epi32(sumi[t], pair);
        }
      }
    }
    if (A == Arith::RepackedGemm) continue;
    for (int t = 0; t < TT; t++) {
      const float ya = reinterpret_cast<const float*>(acts[t] + l.d)[b];
      const __m128i prod = scales.minProducts(acts[t], l, b);
      if (A == Arith::VecDot) {
        accm[t] = _mm_fmadd_ps(_mm_set1_ps(-ya * xdmin), _mm_cvtepi32_ps(prod), accm[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(ya * xd), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      } else {  // RepackedGemv
        accS[t] = std::fma(static_cast<float>(hsumI8(sumi[t])), xd * ya, accS[t]);
        accMinS[t] = std::fma(static_cast<float>(hsumI4(prod)), xdmin * ya, accMinS[t]);
      }
    }
  }
  for (int t = 0; t < TT; t++) {
    float result;
    if (A == Arith::VecDot) {
      __m128 m = _mm_add_ps(accm[t], _mm_movehl_ps(accm[t], accm[t]));
      m = _mm_add_ss(m, _mm_movehdup_ps(m));
      result = hsumF8(acc[t]) + _mm_cvtss_f32(m);
    } else {
      result = accS[t] - accMinS[t];
    }
    p.out[(token0 + t) * p.nRows + row] = result;
  }
}

/**
 * Repacked Q4_K gemm (ggml_gemm_q4_K_8x8_q8_K) for 4 tokens of one row, the 4 outputs' f32
 * accumulators in one xmm (lane = token): per 64 values, acc = fma(Σ sc·q·y, d_w·d_y, acc) and
 * accMin = fma(Σ m·bsum, dmin_w·d_y, accMin), exactly as q4kTile<RepackedGemm> does per token.
 */
inline void q4kGemm4(const MatmulProblem& p, int64_t row, int64_t token0) {
  const ActLayout& l = p.layout;
  const uint8_t* w = p.weight + row * p.weightRowBytes;
  const uint8_t* acts[4];
  for (int t = 0; t < 4; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  __m128 acc = _mm_setzero_ps(), accMin = _mm_setzero_ps();
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(w) + b;
    const Q4kScales scales(x);
    const __m128 ya = _mm_setr_ps(reinterpret_cast<const float*>(acts[0] + l.d)[b], reinterpret_cast<const float*>(acts[1] + l.d)[b],
                                  reinterpret_cast<const float*>(acts[2] + l.d)[b], reinterpret_cast<const float*>(acts[3] + l.d)[b]);
    const __m128 d = _mm_mul_ps(_mm_set1_ps(halfToF32(&x->d)), ya);
    const __m128 dmin = _mm_mul_ps(_mm_set1_ps(halfToF32(&x->dmin)), ya);
    // min sums: prod[t] lane j = m[2j]·s[2j] + m[2j+1]·s[2j+1]; transposed so that minsOf[j] lane t = prod[t][j]
    __m128i prod[4];
    for (int t = 0; t < 4; t++) prod[t] = scales.minProducts(acts[t], l, b);
    const __m128i t01lo = _mm_unpacklo_epi32(prod[0], prod[1]), t23lo = _mm_unpacklo_epi32(prod[2], prod[3]);
    const __m128i t01hi = _mm_unpackhi_epi32(prod[0], prod[1]), t23hi = _mm_unpackhi_epi32(prod[2], prod[3]);
    const __m128i minsOf[4] = {_mm_unpacklo_epi64(t01lo, t23lo), _mm_unpackhi_epi64(t01lo, t23lo), _mm_unpacklo_epi64(t01hi, t23hi),
                               _mm_unpackhi_epi64(t01hi, t23hi)};
    for (int j = 0; j < 4; j++) {
      const Q4kQuarter quarter(x, scales, j);
      __m256i pair[4];
      for (int t = 0; t < 4; t++) pair[t] = quarter.lanes(reinterpret_cast<const int8_t*>(acts[t] + l.qs) + b * kQK_K + 64 * j);
      const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(pair[0], pair[1]), _mm256_hadd_epi32(pair[2], pair[3]));
      const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));  // lane t = Σ pair[t]
      acc = _mm_fmadd_ps(_mm_cvtepi32_ps(sums), d, acc);
      accMin = _mm_fmadd_ps(_mm_cvtepi32_ps(minsOf[j]), dmin, accMin);
    }
  }
  alignas(16) float result[4];
  _mm_store_ps(result, _mm_sub_ps(acc, accMin));
  for (int t = 0; t < 4; t++) p.out[(token0 + t) * p.nRows + row] = result[t];
}

template <class Cfg, Arith A>
void q4kTokens(const MatmulProblem& p, int64_t row, int64_t t0, int64_t t1) {
  int64_t t = t0;
  if (A == Arith::RepackedGemm) {  // t1 - t0 is a multiple of 4 (routeFor)
    for (; t + 4 <= t1; t += 4) q4kGemm4(p, row, t);
  } else {
    for (; t + Cfg::kTokenTile <= t1; t += Cfg::kTokenTile) q4kTile<A, Cfg::kTokenTile>(p, row, t);
  }
  for (; t < t1; t++) q4kTile<A, 1>(p, row, t);
}

/** Q4_K rows [r0, r1), except the gemm tokens of rows [r0, rDone) (already computed, e.g. by panels). */
template <class Cfg>
void q4kRowsFrom(const MatmulProblem& p, int64_t r0, int64_t rDone, int64_t r1) {
  const int64_t nBatched = p.route.nBatched;
  for (int64_t r = r0; r < r1; r++) {
    if (nBatched > 0 && r >= rDone) q4kTokens<Cfg, Arith::RepackedGemm>(p, r, 0, nBatched);
    if (p.route.single == Arith::RepackedGemv) q4kTokens<Cfg, Arith::RepackedGemv>(p, r, nBatched, p.nTokens);
    else q4kTokens<Cfg, Arith::VecDot>(p, r, nBatched, p.nTokens);
  }
}

/** ggml_vec_dot_q6_K_q8_K: one row × TT tokens. */
template <int TT>
void q6kTile(const MatmulProblem& p, int64_t row, int64_t token0) {
  static const uint8_t kScaleShuffle[128] = {
      0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
      4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7,
      8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11,
      12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15};
  const ActLayout& l = p.layout;
  const uint8_t* w = p.weight + row * p.weightRowBytes;
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  __m256 acc[TT];
  for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
  NextTilePrefetch next(p, row + kPrefetchRowsAhead, 1, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);  // the first token group streams the tile in
    const BlockQ6_K* x = reinterpret_cast<const BlockQ6_K*>(w) + b;
    const float xd = halfToF32(&x->d);
    const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->scales));
    const __m256i scales16 = _mm256_cvtepi8_epi16(scales);
    __m256i sumi[TT];
    for (int t = 0; t < TT; t++) sumi[t] = _mm256_setzero_si256();
    for (int j = 0; j < 2; j++) {
      __m256i q[4], s[4];
      q6kCodes(x->ql + 64 * j, x->qh + 32 * j, q);
      for (int g = 0; g < 4; g++) {
        const __m128i shuffle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kScaleShuffle) + 4 * j + g);
        s[g] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, shuffle));
      }
      for (int t = 0; t < TT; t++) {
        const int8_t* y = reinterpret_cast<const int8_t*>(acts[t] + l.qs) + b * kQK_K + 128 * j;
        __m256i p16[4];
        for (int g = 0; g < 4; g++) {
          p16[g] = _mm256_madd_epi16(s[g], _mm256_maddubs_epi16(q[g], _mm256_load_si256(reinterpret_cast<const __m256i*>(y + 32 * g))));
        }
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(p16[0], p16[1]));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(p16[2], p16[3]));
      }
    }
    for (int t = 0; t < TT; t++) {
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const int16_t*>(acts[t] + l.bsums) + 16 * b));
      const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(bsums, scales16), 5);
      const float ya = reinterpret_cast<const float*>(acts[t] + l.d)[b];
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(ya * xd), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[t], sub)), acc[t]);
    }
  }
  for (int t = 0; t < TT; t++) p.out[(token0 + t) * p.nRows + row] = hsumF8(acc[t]);
}

/** Q6_K rows [r0, r1), every token, one row at a time. */
template <class Cfg>
void q6kRowsFrom(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    int64_t t = 0;
    for (; t + Cfg::kTokenTile <= p.nTokens; t += Cfg::kTokenTile) q6kTile<Cfg::kTokenTile>(p, r, t);
    for (; t < p.nTokens; t++) q6kTile<1>(p, r, t);
  }
}

}  // namespace
}  // namespace x86
}  // namespace ls
