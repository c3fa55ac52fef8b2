// x86 kernels for 32-value blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) against Q8_0/Q8_1
// activations, on ymm registers: ggml_vec_dot_*_q8_* tiles (also IQ4_NL's tinyBLAS_Q0_AVX, the same
// arithmetic) and the repacked Q4_0 / IQ4_NL (q4_0_8x8, iq4_nl_8x8: one template) tiles. Shared by
// the AVX2 and AVX-512 libraries through the template argument Cfg (x86/ymm.h); everything here
// has internal linkage. Each output is computed with exactly the f32 operations of the scalar
// kernels (generic/scalar_kernels.cc); only the integer parts, which are exact, differ in how.
#pragma once

#include "generic/iq4.h"
#include "x86/ymm.h"

namespace ls {
namespace x86 {
namespace {

enum class B32 { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL };

/**
 * A block-32 type as the kernels read it: block bytes, the bias its unsigned codes carry (kCorr,
 * corrected through the activations' `corr`), whether it has a min, and its 32 codes in value order.
 */
template <class Cfg, B32 T> struct B32Traits;
template <class Cfg> struct B32Traits<Cfg, B32::Q4_0> {
  static constexpr int kBytes = 18, kCorr = 8;
  static constexpr bool kMin = false;
  static __m256i codes(const uint8_t* b) { return nibbles32(b + 2); }
};
template <class Cfg> struct B32Traits<Cfg, B32::Q4_1> {
  static constexpr int kBytes = 20, kCorr = 0;
  static constexpr bool kMin = true;
  static __m256i codes(const uint8_t* b) { return nibbles32(b + 4); }
};
template <class Cfg> struct B32Traits<Cfg, B32::Q5_0> {
  static constexpr int kBytes = 22, kCorr = 16;
  static constexpr bool kMin = false;
  static __m256i codes(const uint8_t* b) { return q5Codes32(b + 2, b + 6); }
};
template <class Cfg> struct B32Traits<Cfg, B32::Q5_1> {
  static constexpr int kBytes = 24, kCorr = 0;
  static constexpr bool kMin = true;
  static __m256i codes(const uint8_t* b) { return q5Codes32(b + 4, b + 8); }
};
template <class Cfg> struct B32Traits<Cfg, B32::Q8_0> {
  static constexpr int kBytes = 34, kCorr = Cfg::kVnni ? 128 : 0;
  static constexpr bool kMin = false;
  // VNNI: unsigned codes w + 128 (corrected by -128·Σy); AVX2: the signed values (sign trick)
  static __m256i codes(const uint8_t* b) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return Cfg::kVnni ? _mm256_xor_si256(w, _mm256_set1_epi8(static_cast<char>(0x80))) : w;
  }
};

/** IQ4_NL codes: ggml's table values kIq4Values[nibble] in value order; with VNNI as unsigned bytes value + 128. */
template <bool kVnni>
inline __m256i iq4Codes32(const uint8_t* qs) {
  __m128i table = _mm_load_si128(reinterpret_cast<const __m128i*>(kIq4Values));
  if (kVnni) table = _mm_xor_si128(table, _mm_set1_epi8(static_cast<char>(0x80)));
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(table), nibbles32(qs));
}
template <class Cfg> struct B32Traits<Cfg, B32::IQ4_NL> {
  static constexpr int kBytes = 18, kCorr = Cfg::kVnni ? 128 : 0;
  static constexpr bool kMin = false;
  // VNNI: unsigned values K + 128 (corrected by -128·Σy); AVX2: the signed values K (sign trick)
  static __m256i codes(const uint8_t* b) { return iq4Codes32<Cfg::kVnni>(b + 2); }
};

/** 8 int32 lanes of Σ value·y for one block, `add` its loaded `corr` lanes (zero when kCorr is 0) */
template <class Cfg, B32 T>
inline __m256i block32LanesWith(__m256i codes, __m256i y, __m256i add) {
  if constexpr ((T == B32::Q8_0 || T == B32::IQ4_NL) && !Cfg::kVnni) {
    return dotI8(codes, y);  // signed values, |value| ≤ 127 (y ≠ −128)
  } else {
    return dotU8<Cfg::kVnni>(add, codes, y);
  }
}

/** The block's `corr` lanes when T's codes carry a bias (kCorr), else zero. */
template <class Cfg, B32 T>
inline __m256i block32Corr(const int32_t* corr) {
  return B32Traits<Cfg, T>::kCorr != 0 ? _mm256_load_si256(reinterpret_cast<const __m256i*>(corr)) : _mm256_setzero_si256();
}

/** 8 int32 lanes of Σ value·y for one block (the weight's signed values, corrections included) */
template <class Cfg, B32 T>
inline __m256i block32Lanes(__m256i codes, __m256i y, const int32_t* corr) {
  return block32LanesWith<Cfg, T>(codes, y, block32Corr<Cfg, T>(corr));
}

/** ggml_vec_dot_*_q8_*: R rows × TT tokens, one 8-lane f32 accumulator per output. */
template <class Cfg, B32 T, int R, int TT>
void block32VecTile(const MatmulProblem& p, int64_t row0, int64_t token0) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  __m256 acc[R][TT];
  float summs[R][TT];
  for (int r = 0; r < R; r++) for (int t = 0; t < TT; t++) { acc[r][t] = _mm256_setzero_ps(); summs[r][t] = 0.0f; }
  const uint8_t* rows[R];
  for (int r = 0; r < R; r++) rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;

  NextTilePrefetch next(p, row0 + R, R, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (TT == 1 || token0 == 0) next.step(b);  // the first token group streams the tile in
    __m256i codes[R];
    float dw[R], mw[R];
    for (int r = 0; r < R; r++) {
      const uint8_t* block = rows[r] + b * Tr::kBytes;
      codes[r] = Tr::codes(block);
      dw[r] = halfToF32(block);
      if (Tr::kMin) mw[r] = halfToF32(block + 2);
    }
    for (int t = 0; t < TT; t++) {
      const __m256i y = _mm256_load_si256(reinterpret_cast<const __m256i*>(acts[t] + l.qs + 32 * b));
      const int32_t* corr = reinterpret_cast<const int32_t*>(acts[t] + l.corr) + 8 * b;
      const float da = reinterpret_cast<const float*>(acts[t] + l.d)[b];
      const float sa = Tr::kMin ? reinterpret_cast<const float*>(acts[t] + l.s)[b] : 0.0f;
      for (int r = 0; r < R; r++) {
        const __m256 q = _mm256_cvtepi32_ps(block32Lanes<Cfg, T>(codes[r], y, corr));
        const __m256 d = _mm256_set1_ps(dw[r] * da);
        acc[r][t] = T == B32::Q5_1 ? _mm256_fmadd_ps(q, d, acc[r][t]) : _mm256_fmadd_ps(d, q, acc[r][t]);
        if (Tr::kMin) summs[r][t] = std::fma(mw[r], sa, summs[r][t]);
      }
    }
  }
  for (int t = 0; t < TT; t++) {
    float* out = p.out + (token0 + t) * p.nRows + row0;
    for (int r = 0; r < R; r++) out[r] = Tr::kMin ? hsumF8(acc[r][t]) + summs[r][t] : hsumF8(acc[r][t]);
  }
}

/**
 * Repacked Q4_0 / IQ4_NL (ggml_gemv/gemm_q4_0_8x8_q8_0, _iq4_nl_8x8_: one template): 8 rows at
 * once, acc[r] = fma(Σ q·y, d_w·d_y, acc[r]) per block.
 */
template <class Cfg, B32 T, int TT>
void repackedTile(const MatmulProblem& p, int64_t row0, int64_t token0) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  __m256 acc[TT];
  for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
  const uint8_t* row = p.weight + row0 * p.weightRowBytes;
  const size_t stride = p.weightRowBytes;
  NextTilePrefetch next(p, row0 + 8, 8, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = row + b * Tr::kBytes;
    if (TT == 1 || token0 == 0) next.step(b);  // the first token group streams the tile in
    __m256i codes[8];
    for (int r = 0; r < 8; r++) codes[r] = Tr::codes(block + r * stride);
    const __m128i dBits = _mm_setr_epi16(
        static_cast<short>(loadU16(block)), static_cast<short>(loadU16(block + stride)),
        static_cast<short>(loadU16(block + 2 * stride)), static_cast<short>(loadU16(block + 3 * stride)),
        static_cast<short>(loadU16(block + 4 * stride)), static_cast<short>(loadU16(block + 5 * stride)),
        static_cast<short>(loadU16(block + 6 * stride)), static_cast<short>(loadU16(block + 7 * stride)));
    const __m256 dw = _mm256_cvtph_ps(dBits);
    for (int t = 0; t < TT; t++) {
      const uint8_t* a = p.act + (token0 + t) * l.tokenBytes;
      const __m256i y = _mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.qs + 32 * b));
      const __m256i corr = block32Corr<Cfg, T>(reinterpret_cast<const int32_t*>(a + l.corr) + 8 * b);
      __m256i lanes[8];
      for (int r = 0; r < 8; r++) lanes[r] = block32LanesWith<Cfg, T>(codes[r], y, corr);
      const __m256 sums = _mm256_cvtepi32_ps(transposeSumI8(lanes));
      const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(reinterpret_cast<const float*>(a + l.d)[b]));
      acc[t] = _mm256_fmadd_ps(sums, d, acc[t]);
    }
  }
  for (int t = 0; t < TT; t++) _mm256_storeu_ps(p.out + (token0 + t) * p.nRows + row0, acc[t]);
}

/** One row of repacked Q4_0 / IQ4_NL (row ranges that are not whole groups of 8; not reached by routeFor). */
template <class Cfg, B32 T>
void repackedRow(const MatmulProblem& p, int64_t row, int64_t token) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  const uint8_t* w = p.weight + row * p.weightRowBytes;
  const uint8_t* a = p.act + token * l.tokenBytes;
  float acc = 0.0f;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = w + b * Tr::kBytes;
    const __m256i y = _mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.qs + 32 * b));
    const int sum = hsumI8(block32Lanes<Cfg, T>(Tr::codes(block), y, reinterpret_cast<const int32_t*>(a + l.corr) + 8 * b));
    acc = std::fma(static_cast<float>(sum), halfToF32(block) * reinterpret_cast<const float*>(a + l.d)[b], acc);
  }
  p.out[token * p.nRows + row] = acc;
}

/** Repacked Q4_0 / IQ4_NL rows [r, r1): 8-row tiles (4 tokens at a time, then single tokens), then single rows. */
template <class Cfg, B32 T>
void repackedRows(const MatmulProblem& p, int64_t r, int64_t r1) {
  for (; r + 8 <= r1; r += 8) {
    int64_t t = 0;
    for (; t + 4 <= p.nTokens; t += 4) repackedTile<Cfg, T, 4>(p, r, t);
    for (; t < p.nTokens; t++) repackedTile<Cfg, T, 1>(p, r, t);
  }
  for (; r < r1; r++) for (int64_t t = 0; t < p.nTokens; t++) repackedRow<Cfg, T>(p, r, t);
}

}  // namespace
}  // namespace x86
}  // namespace ls
