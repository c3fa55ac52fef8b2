// x86 kernels for Q2_K, Q3_K and Q5_K against Q8_K activations, on ymm registers: one row × a few
// tokens at a time (ggml_vec_dot_q{2,3,5}_K_q8_K, and Q2_K's repacked q2_K_8x8 gemv and gemm).
// Shared by the AVX2 and AVX-512 libraries through the template argument Cfg (x86/ymm.h);
// everything here has internal linkage. Each super-block is decoded once into 8 vectors of 32
// unsigned codes with an int16 scale vector each; a token's integer lanes for vector v are
// madd(scale, maddubs(codes, y)) — lane k = scale · Σ code·y over values 32v + 4k..4k+3, exact —
// and only the f32 accumulation differs between the types and paths.
#pragma once

#include "x86/ymm.h"

namespace ls {
namespace x86 {
namespace {

/** Int16 scales of a vector of 32 values from two 16-value sub-blocks: lo for values 0..15, hi for 16..31. */
inline __m256i scalePair(int lo, int hi) { return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(hi)), _mm_set1_epi16(static_cast<int16_t>(lo))); }

/** One decoded super-block: 8 vectors of 32 codes, their scales, and (Q3_K) the 4s to subtract. */
struct LowKBlock {
  __m256i codes[8], scales[8], minus[8];
  bool hasMinus = false;

  /** lane k = scale · Σ (code − minus)·y of values 32v + 4k..4k+3; y: the vector's 32 activations */
  __m256i lanes(int v, const int8_t* y) const {
    const __m256i yv = _mm256_load_si256(reinterpret_cast<const __m256i*>(y));
    __m256i p16 = _mm256_maddubs_epi16(codes[v], yv);
    if (hasMinus) p16 = _mm256_sub_epi16(p16, _mm256_maddubs_epi16(minus[v], yv));
    return _mm256_madd_epi16(scales[v], p16);
  }
  /** Σ of lanes(v) over vectors [v0, v1) */
  __m256i sum(int v0, int v1, const int8_t* y) const {
    __m256i s = _mm256_setzero_si256();
    for (int v = v0; v < v1; v++) s = _mm256_add_epi32(s, lanes(v, y + 32 * v));
    return s;
  }
};

/** Q5_K: codes nibble | 16·(bit 2k or 2k+1 of qh), one 6-bit scale per 32 values (as Q4_K). */
inline void decodeQ5K(const BlockQ5_K* x, LowKBlock* out) {
  const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
  const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qh));
  alignas(32) int16_t sc[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(sc), q4kScalesMins(x->scales));
  for (int k = 0; k < 4; k++) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * k));
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k), one), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k + 1), one), 4);
    out->codes[2 * k] = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
    out->codes[2 * k + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
    out->scales[2 * k] = _mm256_set1_epi16(sc[2 * k]);
    out->scales[2 * k + 1] = _mm256_set1_epi16(sc[2 * k + 1]);
  }
}

/** Q3_K: low 2 bits from qs, minus 4 where the hmask bit is clear; 16 signed 6-bit scales. */
inline void decodeQ3K(const BlockQ3_K* x, LowKBlock* out) {
  const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4), zero = _mm256_setzero_si256();
  const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->hmask));
  int sc[16];
  for (int s = 0; s < 16; s++) {
    const int low = s < 8 ? x->scales[s] & 0xF : x->scales[s - 8] >> 4;
    sc[s] = (low | (((x->scales[8 + s % 4] >> (2 * (s / 4))) & 3) << 4)) - 32;
  }
  for (int h = 0; h < 2; h++) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * h));
    for (int g = 0; g < 4; g++) {
      const int v = 4 * h + g;
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << v));
      out->codes[v] = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * g), m3);
      out->minus[v] = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, bit), zero), four);
      out->scales[v] = scalePair(sc[2 * v], sc[2 * v + 1]);
    }
  }
  out->hasMinus = true;
}

/** Q2_K: 2-bit codes, 4-bit scales (the mins are applied by the caller). */
inline void decodeQ2K(const BlockQ2_K* x, LowKBlock* out) {
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; h++) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * h));
    for (int g = 0; g < 4; g++) {
      const int v = 4 * h + g;
      out->codes[v] = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * g), m3);
      out->scales[v] = scalePair(x->scales[2 * v] & 0xF, x->scales[2 * v + 1] & 0xF);
    }
  }
}

/** Q2_K mins: lane k = m₂ₖ·S₂ₖ + m₂ₖ₊₁·S₂ₖ₊₁ (S: the activations' 16-value sums). */
inline __m256i q2kMinLanes(const BlockQ2_K* x, const int16_t* bsums) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->scales));
  const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0xF)));
  return _mm256_madd_epi16(mins, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)));
}

/** The activations of TT tokens starting at token0. */
template <int TT>
struct TokenActs {
  const uint8_t* at[TT];
  const ActLayout& l;
  TokenActs(const MatmulProblem& p, int64_t token0) : l(p.layout) {
    for (int t = 0; t < TT; t++) at[t] = p.act + (token0 + t) * l.tokenBytes;
  }
  const int8_t* qs(int t, int64_t b) const { return reinterpret_cast<const int8_t*>(at[t] + l.qs) + b * kQK_K; }
  float d(int t, int64_t b) const { return reinterpret_cast<const float*>(at[t] + l.d)[b]; }
  const int16_t* bsums(int t, int64_t b) const { return reinterpret_cast<const int16_t*>(at[t] + l.bsums) + 16 * b; }
};

/**
 * ggml_vec_dot_q5_K_q8_K / _q3_K_q8_K for one row × TT tokens: per block, acc = fma(d_a·d_w, lanes,
 * acc) per lane; Q5_K adds its mins' total in a scalar FMA with −(d_a·dmin_w), after hsum_float_8.
 */
template <int kType, int TT>
void q35kTile(const MatmulProblem& p, int64_t row, int64_t token0) {
  const TokenActs<TT> a(p, token0);
  const uint8_t* w = p.weight + row * p.weightRowBytes;
  const size_t blockBytes = kType == kQ5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ3_K);
  __m256 acc[TT];
  float summs[TT];
  for (int t = 0; t < TT; t++) { acc[t] = _mm256_setzero_ps(); summs[t] = 0.0f; }
  NextTilePrefetch next(p, row + kPrefetchRowsAhead, 1, p.layout.nBlocks);
  LowKBlock block;
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);  // the first token group streams the tile in
    const uint8_t* xb = w + b * blockBytes;
    float xd;
    __m128i mins = _mm_setzero_si128();
    if (kType == kQ5_K) {
      const BlockQ5_K* x = reinterpret_cast<const BlockQ5_K*>(xb);
      decodeQ5K(x, &block);
      xd = halfToF32(&x->d);
      mins = _mm256_extracti128_si256(q4kScalesMins(x->scales), 1);
    } else {
      const BlockQ3_K* x = reinterpret_cast<const BlockQ3_K*>(xb);
      decodeQ3K(x, &block);
      xd = halfToF32(&x->d);
    }
    for (int t = 0; t < TT; t++) {
      if (kType == kQ5_K) {
        const float dmin = -a.d(t, b) * halfToF32(&reinterpret_cast<const BlockQ5_K*>(xb)->dmin);
        const int minSum = hsumI4(_mm_madd_epi16(mins, q8kSubSums(a.bsums(t, b))));
        summs[t] = std::fma(dmin, static_cast<float>(minSum), summs[t]);
      }
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(a.d(t, b) * xd), _mm256_cvtepi32_ps(block.sum(0, 8, a.qs(t, b))), acc[t]);
    }
  }
  for (int t = 0; t < TT; t++) p.out[(token0 + t) * p.nRows + row] = hsumF8(acc[t]) + summs[t];
}

/**
 * Q2_K for one row × TT tokens, each of its arithmetics: VecDot (per block and lane, the mins'
 * FMA with −(d_a·dmin_w) then the sums' FMA with d_a·d_w; hsum_float_8), RepackedGemv (one
 * scalar FMA each of the block's integer totals, with d_w·d_a and dmin_w·d_a; acc − accMin),
 * RepackedGemm (the same per 128 values).
 */
template <Arith A, int TT>
void q2kTile(const MatmulProblem& p, int64_t row, int64_t token0) {
  const TokenActs<TT> a(p, token0);
  const BlockQ2_K* w = reinterpret_cast<const BlockQ2_K*>(p.weight + row * p.weightRowBytes);
  __m256 acc[TT];
  float accS[TT], accMinS[TT];
  for (int t = 0; t < TT; t++) { acc[t] = _mm256_setzero_ps(); accS[t] = accMinS[t] = 0.0f; }
  NextTilePrefetch next(p, row + kPrefetchRowsAhead, 1, p.layout.nBlocks);
  LowKBlock block;
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);
    const BlockQ2_K* x = w + b;
    decodeQ2K(x, &block);
    const float xd = halfToF32(&x->d), xdmin = halfToF32(&x->dmin);
    for (int t = 0; t < TT; t++) {
      const float ya = a.d(t, b);
      const __m256i minLanes = q2kMinLanes(x, a.bsums(t, b));
      if (A == Arith::VecDot) {
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(-ya * xdmin), _mm256_cvtepi32_ps(minLanes), acc[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(ya * xd), _mm256_cvtepi32_ps(block.sum(0, 8, a.qs(t, b))), acc[t]);
      } else if (A == Arith::RepackedGemv) {
        accS[t] = std::fma(static_cast<float>(hsumI8(block.sum(0, 8, a.qs(t, b)))), xd * ya, accS[t]);
        accMinS[t] = std::fma(static_cast<float>(hsumI8(minLanes)), xdmin * ya, accMinS[t]);
      } else {  // RepackedGemm: halves of 128 values = vectors 0..3 / 4..7 = min lanes 0..3 / 4..7
        alignas(32) int32_t m[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(m), minLanes);
        for (int h = 0; h < 2; h++) {
          accS[t] = std::fma(static_cast<float>(hsumI8(block.sum(4 * h, 4 * h + 4, a.qs(t, b)))), xd * ya, accS[t]);
          accMinS[t] = std::fma(static_cast<float>(m[4 * h] + m[4 * h + 1] + m[4 * h + 2] + m[4 * h + 3]), xdmin * ya, accMinS[t]);
        }
      }
    }
  }
  for (int t = 0; t < TT; t++) p.out[(token0 + t) * p.nRows + row] = A == Arith::VecDot ? hsumF8(acc[t]) : accS[t] - accMinS[t];
}

template <class Cfg, Arith A>
void q2kTokens(const MatmulProblem& p, int64_t row, int64_t t0, int64_t t1) {
  int64_t t = t0;
  for (; t + Cfg::kTokenTile <= t1; t += Cfg::kTokenTile) q2kTile<A, Cfg::kTokenTile>(p, row, t);
  for (; t < t1; t++) q2kTile<A, 1>(p, row, t);
}

/** Q2_K rows [r0, r1), every token, through the arithmetic of its route. */
template <class Cfg>
void q2kRowsFrom(const MatmulProblem& p, int64_t r0, int64_t r1) {
  const int64_t nBatched = p.route.nBatched;
  for (int64_t r = r0; r < r1; r++) {
    if (nBatched > 0) q2kTokens<Cfg, Arith::RepackedGemm>(p, r, 0, nBatched);
    if (p.route.single == Arith::RepackedGemv) q2kTokens<Cfg, Arith::RepackedGemv>(p, r, nBatched, p.nTokens);
    else q2kTokens<Cfg, Arith::VecDot>(p, r, nBatched, p.nTokens);
  }
}

/** Q5_K or Q3_K rows [r0, r1), every token. */
template <class Cfg, int kType>
void q35kRowsFrom(const MatmulProblem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    int64_t t = 0;
    for (; t + Cfg::kTokenTile <= p.nTokens; t += Cfg::kTokenTile) q35kTile<kType, Cfg::kTokenTile>(p, r, t);
    for (; t < p.nTokens; t++) q35kTile<kType, 1>(p, r, t);
  }
}

}  // namespace
}  // namespace x86
}  // namespace ls
