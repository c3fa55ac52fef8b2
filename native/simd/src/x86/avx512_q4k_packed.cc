// Q4_K weights packed in 16-row tiles (generic/pack.h kQ4kTiles16) on AVX-512 + VNNI. Every
// field of a super-block is stored row-major in lanes (lane i = row i of the tile), so 16 rows'
// super-block is 37 contiguous zmm loads and nothing is transposed or gathered at run time.
//
// The gemv keeps q4kTile<Arith::RepackedGemv>'s arithmetic (ggml_gemv_q4_K_8x8_q8_K) per lane:
// per super-block the exact int32 Σₛ scₛ·Σ q·y (vpdpbusd per sub-block, then × scale) and
// Σₛ mₛ·Sₛ (S = the activations' 32-value sums, vpdpwssd over (m₂ⱼ, m₂ⱼ₊₁) pairs), then
// acc = fma(f32(Σ), d·d_y, acc) and accMin = fma(f32(Σ m·S), dmin·d_y, accMin); out = acc − accMin.
// Integer sums are exact in any order, so every output keeps its bits.
#include <immintrin.h>

#include <cstring>

#include "generic/kernels.h"
#include "generic/pack.h"
#include "x86/avx512.h"
#include "x86/avx512_q4k.h"
#include "x86/ymm.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

constexpr size_t kScaleDwords = 64;  // offset of the 3 scale dwords of 16 rows in a packed super-block
constexpr size_t kCodeDwords = 256;  // offset of the 32 code dwords of 16 rows

/**
 * The 8 scales and 8 mins of a packed super-block's 16 rows, ggml's utmp shuffle of the 12 scale
 * bytes per lane: byte s % 4 of each dword lane of sc03 (s < 4) or sc47 is scale s, likewise mins.
 */
struct PackedScales {
  __m512i sc03, sc47, m03, m47;
  explicit PackedScales(const uint8_t* block) {
    const __m512i u0 = _mm512_loadu_si512(block + kScaleDwords);
    const __m512i u1 = _mm512_loadu_si512(block + kScaleDwords + 64);
    const __m512i u2 = _mm512_loadu_si512(block + kScaleDwords + 128);
    const __m512i low6 = _mm512_set1_epi32(0x3f3f3f3f), low4 = _mm512_set1_epi32(0x0f0f0f0f), top2 = _mm512_set1_epi32(0x30303030);
    sc03 = _mm512_and_si512(u0, low6);
    m03 = _mm512_and_si512(u1, low6);
    sc47 = _mm512_or_si512(_mm512_and_si512(u2, low4), _mm512_and_si512(_mm512_srli_epi32(u0, 2), top2));
    m47 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), low4), _mm512_and_si512(_mm512_srli_epi32(u1, 2), top2));
  }
  /** scale of sub-block s as int32 lanes */
  __m512i scale(int s) const { return _mm512_and_si512(_mm512_srli_epi32(s < 4 ? sc03 : sc47, 8 * (s % 4)), _mm512_set1_epi32(0xff)); }
  /** (m₂ⱼ, m₂ⱼ₊₁) as int16 pairs */
  __m512i minPair(int j) const {
    const __m512i two = _mm512_and_si512(_mm512_srli_epi32(j < 2 ? m03 : m47, 16 * (j % 2)), _mm512_set1_epi32(0xffff));
    return _mm512_and_si512(_mm512_or_si512(two, _mm512_slli_epi32(two, 8)), _mm512_set1_epi32(0x00ff00ff));
  }
};

inline __m512i broadcast4(const uint8_t* y) {
  int32_t word;
  std::memcpy(&word, y, 4);
  return _mm512_set1_epi32(word);
}

/** Σₛ scₛ·Σ q·y of the TT tokens' activations y[t] (the super-block's 256 int8) for 16 rows. */
template <int TT>
void codeSums(const uint8_t* block, const PackedScales& scales, const uint8_t* const y[TT], __m512i sums[TT]) {
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  for (int t = 0; t < TT; t++) sums[t] = _mm512_setzero_si512();
  for (int j = 0; j < 4; j++) {  // sub-blocks 2j (low nibbles of code dwords 8j..8j+7) and 2j + 1 (high)
    __m512i lo[TT], hi[TT];
    for (int t = 0; t < TT; t++) lo[t] = hi[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
      const __m512i q = _mm512_loadu_si512(block + kCodeDwords + 64 * (8 * j + k));
      const __m512i qLo = _mm512_and_si512(q, m4), qHi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
      for (int t = 0; t < TT; t++) {
        lo[t] = _mm512_dpbusd_epi32(lo[t], qLo, broadcast4(y[t] + 64 * j + 4 * k));
        hi[t] = _mm512_dpbusd_epi32(hi[t], qHi, broadcast4(y[t] + 64 * j + 32 + 4 * k));
      }
    }
    const __m512i scLo = scales.scale(2 * j), scHi = scales.scale(2 * j + 1);
    for (int t = 0; t < TT; t++) sums[t] = _mm512_add_epi32(sums[t], _mm512_add_epi32(_mm512_mullo_epi32(lo[t], scLo), _mm512_mullo_epi32(hi[t], scHi)));
  }
}

/** Tokens [token0, token0 + TT) of the 16 packed rows from row0. */
template <int TT>
void gemvTile(const MatmulProblem& p, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  const uint8_t* tile = p.weight + row0 * p.weightRowBytes;
  const uint8_t* acts[TT];
  __m512 acc[TT], accMin[TT];
  for (int t = 0; t < TT; t++) {
    acts[t] = p.act + (token0 + t) * l.tokenBytes;
    acc[t] = accMin[t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = tile + b * kQ4kTile16BlockBytes;
    const PackedScales scales(block);
    const uint8_t* y[TT];
    for (int t = 0; t < TT; t++) y[t] = acts[t] + l.qs + b * kQK_K;
    __m512i sums[TT];
    codeSums<TT>(block, scales, y, sums);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32)));
    for (int t = 0; t < TT; t++) {
      const __m512 ya = _mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.d)[b]);
      alignas(16) int32_t subSumPairs[4];  // (S₂ⱼ, S₂ⱼ₊₁) int16 pairs
      _mm_store_si128(reinterpret_cast<__m128i*>(subSumPairs), q8kSubSums(reinterpret_cast<const int16_t*>(acts[t] + l.bsums) + 16 * b));
      __m512i minSums = _mm512_setzero_si512();
      for (int j = 0; j < 4; j++) minSums = _mm512_dpwssd_epi32(minSums, scales.minPair(j), _mm512_set1_epi32(subSumPairs[j]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[t]), _mm512_mul_ps(d, ya), acc[t]);
      accMin[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(minSums), _mm512_mul_ps(dmin, ya), accMin[t]);
    }
  }
  for (int t = 0; t < TT; t++) _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, _mm512_sub_ps(acc[t], accMin[t]));
}

}  // namespace

void fillQ4kPanelPacked(const MatmulProblem& p, int64_t row0, uint8_t* panel) {
  const uint8_t* tile = p.weight + row0 * p.weightRowBytes;
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    const uint8_t* block = tile + b * kQ4kTile16BlockBytes;
    uint8_t* out = panel + b * Q4kPanel::kBytes;
    for (int dword = 0; dword < 32; dword++) {  // code dword 8j + k: sub-block 2j (low), 2j + 1 (high), dword k
      const __m512i q = _mm512_loadu_si512(block + kCodeDwords + 64 * dword);
      uint8_t* lo = out + Q4kPanel::kCodes + 512 * (2 * (dword / 8)) + 64 * (dword % 8);
      _mm512_store_si512(lo, _mm512_and_si512(q, m4));
      _mm512_store_si512(lo + 512, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4));
    }
    const PackedScales scales(block);
    for (int s = 0; s < 8; s++) _mm512_store_ps(reinterpret_cast<float*>(out + Q4kPanel::kScales) + 16 * s, _mm512_cvtepi32_ps(scales.scale(s)));
    for (int j = 0; j < 4; j++) _mm512_store_si512(out + Q4kPanel::kMins + 64 * j, scales.minPair(j));
    _mm512_store_ps(reinterpret_cast<float*>(out + Q4kPanel::kD), _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block))));
    _mm512_store_ps(reinterpret_cast<float*>(out + Q4kPanel::kDmin), _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32))));
  }
}

void q4kPackedGemvRows(const MatmulProblem& p, int64_t r0, int64_t r1, int64_t token0) {
  for (int64_t row = r0; row + kPackRows <= r1; row += kPackRows) {
    int64_t t = token0;
    for (; t + 3 <= p.nTokens; t += 3) gemvTile<3>(p, row, t);
    if (p.nTokens - t == 2) gemvTile<2>(p, row, t);
    else if (p.nTokens - t == 1) gemvTile<1>(p, row, t);
  }
}

}  // namespace avx512
}  // namespace x86
}  // namespace ls
