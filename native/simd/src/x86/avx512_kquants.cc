// AVX-512 K-quant kernels (built into the AVX-512 library): the ymm rows of x86/ymm_kquants.h
// with Avx512Config, and for batches 16-row panels (helpers in x86/avx512.h).
//
// Repacked Q4_K gemm (ggml_gemm_q4_K_8x8_q8_K), 16 rows per zmm: per 64 values j of a
// super-block, each output takes acc = fma(Σ sc·q·y, d_w·d_y, acc) and accMin = fma(m₂ⱼ·S₂ⱼ +
// m₂ⱼ₊₁·S₂ⱼ₊₁, dmin_w·d_y, accMin) (S = the activations' 32-value sums), as q4kGemm4. Here the
// integer sums of 16 rows come from vpdpbusd chains over a per-thread panel of unpacked codes
// (lane i = row i), the mins term from one vpdpwssd. Σ sc·q·y is formed in f32 as
// cvt(Σlo)·sc_lo + cvt(Σhi)·sc_hi: both products and their sum are integers below 2²⁴, so it is
// exactly the f32 of the integer total.
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "generic/kernels.h"
#include "x86/avx512.h"
#include "x86/avx512_q4k.h"
#include "x86/ymm.h"
#include "x86/ymm_kquants.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

typedef Avx512Config Cfg;

/**
 * Batch sizes from which the panels beat the per-row tiles (2048×2048, 1 thread): Q4_K's gemm
 * tokens come in fours and win from the first four (163 vs 86 GOP/s at 8 tokens); Q6_K from
 * about 16 (133 vs 98 at 32, 78 vs 101 at 8).
 */
constexpr int64_t kQ4kPanelMinTokens = 4;
constexpr int64_t kQ6kPanelMinTokens = 16;

void fillQ4kPanel(const MatmulProblem& p, int64_t row0, uint8_t* panel) {
  const size_t stride = p.weightRowBytes;
  const __m256i m4 = _mm256_set1_epi8(0xF);
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    uint8_t* out = panel + b * Q4kPanel::kBytes;
    alignas(64) int16_t scalesMins[16][16];  // per row: 8 scales, then 8 mins
    for (int r = 0; r < 16; r++) {
      const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(p.weight + (row0 + r) * stride) + b;
      _mm256_store_si256(reinterpret_cast<__m256i*>(scalesMins[r]), q4kScalesMins(x->scales));
    }
    for (int s = 0; s < 8; s++) {
      __m256i codes[16];
      for (int r = 0; r < 16; r++) {
        const BlockQ4_K* x = reinterpret_cast<const BlockQ4_K*>(p.weight + (row0 + r) * stride) + b;
        const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs + 32 * (s / 2)));
        codes[r] = s % 2 == 0 ? _mm256_and_si256(q4, m4) : _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
      }
      storeTransposed16x8(codes, out + Q4kPanel::kCodes + 512 * s);
      float* sc = reinterpret_cast<float*>(out + Q4kPanel::kScales) + 16 * s;
      for (int r = 0; r < 16; r++) sc[r] = static_cast<float>(scalesMins[r][s]);
    }
    int16_t* mins = reinterpret_cast<int16_t*>(out + Q4kPanel::kMins);
    for (int j = 0; j < 4; j++) {
      for (int r = 0; r < 16; r++) {
        mins[32 * j + 2 * r] = scalesMins[r][8 + 2 * j];
        mins[32 * j + 2 * r + 1] = scalesMins[r][8 + 2 * j + 1];
      }
    }
    widenHalves16(p.weight + row0 * stride + b * sizeof(BlockQ4_K), stride, reinterpret_cast<float*>(out + Q4kPanel::kD));
    widenHalves16(p.weight + row0 * stride + b * sizeof(BlockQ4_K) + 2, stride, reinterpret_cast<float*>(out + Q4kPanel::kDmin));
  }
}

/** Σ of 32 codes · y for 16 rows: a vpdpbusd chain over the sub-block's 8 dwords. */
inline __m512i q4kPanelSubBlock(const uint8_t* codes, const uint8_t* y) {
  __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int k = 0; k < 8; k++) {
    int32_t y4;
    std::memcpy(&y4, y + 4 * k, 4);
    sum = _mm512_dpbusd_epi32(sum, _mm512_load_si512(codes + 64 * k), _mm512_set1_epi32(y4));
  }
  return sum;
}

template <int TT>
void q4kPanelTokens(const MatmulProblem& p, const uint8_t* panel, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  __m512 acc[TT], accMin[TT];
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) {
    acc[t] = accMin[t] = _mm512_setzero_ps();
    acts[t] = p.act + (token0 + t) * l.tokenBytes;
  }
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* blk = panel + b * Q4kPanel::kBytes;
    const float* sc = reinterpret_cast<const float*>(blk + Q4kPanel::kScales);
    __m512 d[TT], dmin[TT];
    alignas(16) int32_t subSums[TT][4];  // (S₂ⱼ, S₂ⱼ₊₁) int16 pairs
    for (int t = 0; t < TT; t++) {
      const __m512 ya = _mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.d)[b]);
      d[t] = _mm512_mul_ps(_mm512_load_ps(reinterpret_cast<const float*>(blk + Q4kPanel::kD)), ya);
      dmin[t] = _mm512_mul_ps(_mm512_load_ps(reinterpret_cast<const float*>(blk + Q4kPanel::kDmin)), ya);
      _mm_store_si128(reinterpret_cast<__m128i*>(subSums[t]), q8kSubSums(reinterpret_cast<const int16_t*>(acts[t] + l.bsums) + 16 * b));
    }
    for (int j = 0; j < 4; j++) {
      const uint8_t* codesLo = blk + Q4kPanel::kCodes + 512 * (2 * j);
      const __m512 scLo = _mm512_load_ps(sc + 16 * (2 * j)), scHi = _mm512_load_ps(sc + 16 * (2 * j + 1));
      const __m512i minPairs = _mm512_load_si512(blk + Q4kPanel::kMins + 64 * j);
#pragma GCC unroll 4
      for (int t = 0; t < TT; t++) {
        const uint8_t* y = acts[t] + l.qs + b * kQK_K + 64 * j;
        const __m512 lo = _mm512_mul_ps(_mm512_cvtepi32_ps(q4kPanelSubBlock(codesLo, y)), scLo);
        const __m512 sums = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4kPanelSubBlock(codesLo + 512, y + 32)), scHi, lo);
        acc[t] = _mm512_fmadd_ps(sums, d[t], acc[t]);
        const __m512i mins = _mm512_dpwssd_epi32(_mm512_setzero_si512(), minPairs, _mm512_set1_epi32(subSums[t][j]));
        accMin[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), dmin[t], accMin[t]);
      }
    }
  }
  for (int t = 0; t < TT; t++) _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, _mm512_sub_ps(acc[t], accMin[t]));
}

/**
 * Rows [r0, r0 + 16·k) of the repacked-gemm tokens [0, p.route.nBatched) through panels;
 * returns the first row not done (the caller computes the rest, and the other tokens).
 */
int64_t q4kPanelRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  const int64_t nGemm = p.route.batched == Arith::RepackedGemm ? p.route.nBatched : 0;
  if (nGemm < kQ4kPanelMinTokens) return r0;
  uint8_t* panel = panelScratch(Q4kPanel::kBytes * static_cast<size_t>(p.layout.nBlocks));
  int64_t r = r0;
  for (; r + 16 <= r1; r += 16) {
    if (p.packedRows != 0) fillQ4kPanelPacked(p, r, panel);
    else fillQ4kPanel(p, r, panel);
    int64_t t = 0;
    for (; t + 4 <= nGemm; t += 4) q4kPanelTokens<4>(p, panel, r, t);
    for (; t < nGemm; t++) q4kPanelTokens<1>(p, panel, r, t);
  }
  return r;
}

// -------------------------------------------------------------------------------------------------
// Q6_K vec_dot (ggml_vec_dot_q6_K_q8_K) for batches: each output keeps 8 f32 lanes, lane k taking
// per super-block fma(d_w·d_y, Σ over the 8 32-value groups of sc·(q·y of bytes 4k..4k+3) −
// 32·(sc₂ₖ·bsum₂ₖ + sc₂ₖ₊₁·bsum₂ₖ₊₁), acc). A panel zmm holds one lane of 16 rows, the codes
// already multiplied by their group scale as int16 (|q·sc| ≤ 63·128), so every lane's integer is
// one vpdpwssd chain over int16 pairs of the activations, started from the bsums correction.

/** One super-block of a 16-row Q6_K panel. */
struct Q6kPanel {
  static constexpr size_t kCodes = 0;               // int16 pairs [8 groups][8 lanes][2 pairs][16 rows]
  static constexpr size_t kCorr = kCodes + 8 * 1024; // int16 pairs (−32·sc₂ₖ, −32·sc₂ₖ₊₁) [8 lanes][16 rows]
  static constexpr size_t kD = kCorr + 8 * 64;       // f32 [16 rows]
  static constexpr size_t kBytes = kD + 64;
};

void fillQ6kPanel(const MatmulProblem& p, int64_t row0, uint8_t* panel) {
  const size_t stride = p.weightRowBytes;
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    uint8_t* out = panel + b * Q6kPanel::kBytes;
    alignas(32) int16_t scaled[16][8][32];  // [row][group 4j+g][value]
    int16_t* corr = reinterpret_cast<int16_t*>(out + Q6kPanel::kCorr);
    for (int r = 0; r < 16; r++) {
      const BlockQ6_K* x = reinterpret_cast<const BlockQ6_K*>(p.weight + (row0 + r) * stride) + b;
      for (int k = 0; k < 8; k++) {
        corr[32 * k + 2 * r] = static_cast<int16_t>(-32 * x->scales[2 * k]);
        corr[32 * k + 2 * r + 1] = static_cast<int16_t>(-32 * x->scales[2 * k + 1]);
      }
      for (int j = 0; j < 2; j++) {
        __m256i q[4];
        q6kCodes(x->ql + 64 * j, x->qh + 32 * j, q);
        for (int g = 0; g < 4; g++) {
          const int group = 4 * j + g;  // bytes 0..15 take scale 2·group, 16..31 scale 2·group + 1
          const __m256i lo = _mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(q[g])), _mm256_set1_epi16(x->scales[2 * group]));
          const __m256i hi = _mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(q[g], 1)), _mm256_set1_epi16(x->scales[2 * group + 1]));
          _mm256_store_si256(reinterpret_cast<__m256i*>(scaled[r][group]), lo);
          _mm256_store_si256(reinterpret_cast<__m256i*>(scaled[r][group] + 16), hi);
        }
      }
    }
    for (int group = 0; group < 8; group++) {
      for (int half = 0; half < 2; half++) {  // dwords 8·half.. of the group's 16 (dword 2k + pair)
        __m256i rows[16];
        for (int r = 0; r < 16; r++) rows[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(scaled[r][group] + 16 * half));
        storeTransposed16x8(rows, out + Q6kPanel::kCodes + 1024 * group + 512 * half);
      }
    }
    widenHalves16(p.weight + row0 * stride + b * sizeof(BlockQ6_K) + offsetof(BlockQ6_K, d), stride, reinterpret_cast<float*>(out + Q6kPanel::kD));
  }
}

template <int TT>
void q6kPanelTokens(const MatmulProblem& p, const uint8_t* panel, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  __m512 acc[TT][8];
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) {
    for (int k = 0; k < 8; k++) acc[t][k] = _mm512_setzero_ps();
    acts[t] = p.act + (token0 + t) * l.tokenBytes;
  }
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* blk = panel + b * Q6kPanel::kBytes;
    alignas(64) int16_t y16[TT][kQK_K];
    __m512 d[TT];
    for (int t = 0; t < TT; t++) {
      const int8_t* y = reinterpret_cast<const int8_t*>(acts[t] + l.qs) + b * kQK_K;
      for (int i = 0; i < kQK_K; i += 32) {
        _mm512_store_si512(y16[t] + i, _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(y + i))));
      }
      d[t] = _mm512_mul_ps(_mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.d)[b]), _mm512_load_ps(reinterpret_cast<const float*>(blk + Q6kPanel::kD)));
    }
    for (int k = 0; k < 8; k++) {
      const __m512i corr = _mm512_load_si512(blk + Q6kPanel::kCorr + 64 * k);
      __m512i even[TT], odd[TT];  // two chains per output (latency), added exactly at the end
#pragma GCC unroll 4
      for (int t = 0; t < TT; t++) {
        int32_t bsumPair;
        std::memcpy(&bsumPair, reinterpret_cast<const int16_t*>(acts[t] + l.bsums) + 16 * b + 2 * k, 4);
        even[t] = _mm512_dpwssd_epi32(_mm512_setzero_si512(), corr, _mm512_set1_epi32(bsumPair));
        odd[t] = _mm512_setzero_si512();
      }
#pragma GCC unroll 8
      for (int group = 0; group < 8; group++) {
#pragma GCC unroll 2
        for (int pair = 0; pair < 2; pair++) {
          const __m512i w = _mm512_load_si512(blk + Q6kPanel::kCodes + 1024 * group + 64 * (2 * k + pair));
          const int at = 32 * group + 4 * k + 2 * pair;  // y index of the pair's first value
#pragma GCC unroll 4
          for (int t = 0; t < TT; t++) {
            int32_t y2;
            std::memcpy(&y2, y16[t] + at, 4);
            if (pair == 0) even[t] = _mm512_dpwssd_epi32(even[t], w, _mm512_set1_epi32(y2));
            else odd[t] = _mm512_dpwssd_epi32(odd[t], w, _mm512_set1_epi32(y2));
          }
        }
      }
#pragma GCC unroll 4
      for (int t = 0; t < TT; t++) acc[t][k] = _mm512_fmadd_ps(d[t], _mm512_cvtepi32_ps(_mm512_add_epi32(even[t], odd[t])), acc[t][k]);
    }
  }
  for (int t = 0; t < TT; t++) _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, hsumLanes8(acc[t]));
}

/** Rows [r0, r0 + 16·k) of every token through Q6_K panels; returns the first row not done. */
int64_t q6kPanelRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.nTokens < kQ6kPanelMinTokens) return r0;
  uint8_t* panel = panelScratch(Q6kPanel::kBytes * static_cast<size_t>(p.layout.nBlocks));
  int64_t r = r0;
  for (; r + 16 <= r1; r += 16) {
    fillQ6kPanel(p, r, panel);
    int64_t t = 0;
    for (; t + 2 <= p.nTokens; t += 2) q6kPanelTokens<2>(p, panel, r, t);
    for (; t < p.nTokens; t++) q6kPanelTokens<1>(p, panel, r, t);
  }
  return r;
}

}  // namespace

void q4kRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  const int64_t rPanels = q4kPanelRows(p, r0, r1);  // their gemm tokens are done
  if (p.packedRows == 0) return q4kRowsFrom<Cfg>(p, r0, rPanels, r1);
  // packed (whole tiles; 16 | nRows routes gemm for groups of 4 tokens, gemv for the rest): the
  // panels did the gemm tokens of every row, or there were none
  q4kPackedGemvRows(p, r0, r1, rPanels == r0 ? 0 : p.route.nBatched);
}

void q6kRows(const MatmulProblem& p, int64_t r0, int64_t r1) { q6kRowsFrom<Cfg>(p, q6kPanelRows(p, r0, r1), r1); }

}  // namespace avx512
}  // namespace x86
}  // namespace ls
