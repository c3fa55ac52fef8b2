// Block-32 vec_dot for batches on AVX-512 (built into the AVX-512 library): 16 rows per zmm.
//
// ggml_vec_dot_*_q8_* keeps 8 f32 accumulators per output, lane k summing, per block,
// fma(d_w·d_y, Σ of the 4 products of values 4k..4k+3, acc). The row-pair and token-pair tiles
// put 2 outputs' 8 lanes in a zmm, so every zmm of integer sums costs its own d_w·d_y product
// and shuffles. Here a zmm holds one lane k of 16 rows instead (lane i = row i): the 16 scale
// products of a block are one multiply shared by all 8 lanes, the activation's 4 bytes are an
// embedded broadcast, and each output still gets exactly ggml's per-lane fma sequence and
// hsum_float_8. The weights are transposed into that layout once per 16-row tile (a "panel" in
// a per-thread scratch buffer) and reused by every token of the batch.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "generic/kernels.h"
#include "generic/pack.h"
#include "x86/avx512.h"
#include "x86/ymm.h"
#include "x86/ymm_block32.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

typedef Avx512Config Cfg;

/** tokens per panel pass: 8·3 accumulators + 3 scale products in 32 zmm */
constexpr int kPanelTokens = 3;

/** One 16-row panel block: the codes' k-th 4 bytes of rows 0..15, then their f32 scales (and mins). */
struct PanelLayout {
  static constexpr size_t kCodes = 8 * 64, kScales = 64;
  size_t blockBytes;  // kCodes + kScales (+ kScales for the mins)
  explicit PanelLayout(bool hasMin) : blockBytes(kCodes + kScales * (hasMin ? 2 : 1)) {}
};

/**
 * Transposes rows [row0, row0 + 16) into the panel: per block, zmm k lane i = dword k of row i's
 * 32 codes (Tr::codes: unsigned, corrected through the activations' `corr`), then the scales.
 */
template <B32 T>
void fillPanel(const MatmulProblem& p, int64_t row0, uint8_t* panel, const PanelLayout& layout) {
  typedef B32Traits<Cfg, T> Tr;
  const size_t stride = p.weightRowBytes;
  const uint8_t* rows = p.weight + row0 * stride;
  NextTilePrefetch next(p, row0 + 16, 16, p.layout.nBlocks);  // the next tile, from memory meanwhile
  const bool packed = (T == B32::Q4_0 || T == B32::IQ4_NL) && p.packedRows == kPackRows;  // kTiles16 (generic/pack.h)
  for (int64_t b = 0; b < p.layout.nBlocks; b++) {
    next.step(b);
    uint8_t* out = panel + b * layout.blockBytes;
    __m256i codes[16];
    if (packed) {
      const uint8_t* block = rows + b * kTile16BlockBytes;
      for (int r = 0; r < 16; r++) codes[r] = Tr::codes(block + 32 + 16 * r - 2);  // codes start 2 bytes into a block
      storeTransposed16x8(codes, out);
      const __m512 lanes = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block)));
      // lane L holds row packedScaleRow(L): back to row order
      _mm512_store_ps(reinterpret_cast<float*>(out + PanelLayout::kCodes), _mm512_permutexvar_ps(transposedRowOrder(), lanes));
      continue;
    }
    const uint8_t* block = rows + b * Tr::kBytes;
    for (int r = 0; r < 16; r++) codes[r] = Tr::codes(block + r * stride);
    storeTransposed16x8(codes, out);
    float* scales = reinterpret_cast<float*>(out + PanelLayout::kCodes);
    widenHalves16(block, stride, scales);
    if (Tr::kMin) widenHalves16(block + 2, stride, scales + 16);
  }
}

/** TT tokens × the panel's 16 rows; out rows row0.. of tokens token0.. */
template <B32 T, int TT>
void panelTokens(const MatmulProblem& p, const uint8_t* panel, const PanelLayout& layout, int64_t row0, int64_t token0) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  __m512 acc[TT][8];
  __m512 summs[TT];
  for (int t = 0; t < TT; t++) {
    for (int k = 0; k < 8; k++) acc[t][k] = _mm512_setzero_ps();
    summs[t] = _mm512_setzero_ps();
  }
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = panel + b * layout.blockBytes;
    const float* scales = reinterpret_cast<const float*>(block + PanelLayout::kCodes);
    const __m512 dw = _mm512_load_ps(scales);
    __m512 d[TT];
#pragma GCC unroll 4
    for (int t = 0; t < TT; t++) {
      d[t] = _mm512_mul_ps(dw, _mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.d)[b]));
      if (Tr::kMin) summs[t] = _mm512_fmadd_ps(_mm512_load_ps(scales + 16), _mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.s)[b]), summs[t]);
    }
    // fully unrolled so that the 8·TT accumulators stay in registers
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
      const __m512i w = _mm512_load_si512(block + 64 * k);
#pragma GCC unroll 4
      for (int t = 0; t < TT; t++) {
        int32_t y4;
        std::memcpy(&y4, acts[t] + l.qs + 32 * b + 4 * k, 4);
        const __m512i init = Tr::kCorr != 0 ? _mm512_set1_epi32(reinterpret_cast<const int32_t*>(acts[t] + l.corr)[8 * b + k]) : _mm512_setzero_si512();
        const __m512 q = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(init, w, _mm512_set1_epi32(y4)));
        acc[t][k] = T == B32::Q5_1 ? _mm512_fmadd_ps(q, d[t], acc[t][k]) : _mm512_fmadd_ps(d[t], q, acc[t][k]);
      }
    }
  }
  for (int t = 0; t < TT; t++) {
    __m512 total = hsumLanes8(acc[t]);
    if (Tr::kMin) total = _mm512_add_ps(total, summs[t]);
    _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, total);
  }
}

/**
 * Repacked Q4_0 arithmetic (ggml_gemm_q4_0_8x8_q8_0: one fma per block of the block's whole
 * integer sum) from the same panel: the 8 dword dots of a block chain into one integer total.
 */
template <int TT>
void panelTokensBlockSum(const MatmulProblem& p, const uint8_t* panel, const PanelLayout& layout, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  __m512 acc[TT];
  for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
  const uint8_t* acts[TT];
  for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    const uint8_t* block = panel + b * layout.blockBytes;
    __m512i w[8];
    for (int k = 0; k < 8; k++) w[k] = _mm512_load_si512(block + 64 * k);
    const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(block + PanelLayout::kCodes));
#pragma GCC unroll 8
    for (int t = 0; t < TT; t++) {
      const uint8_t* y = acts[t] + l.qs + 32 * b;
      __m512i sum = _mm512_set1_epi32(reinterpret_cast<const int32_t*>(acts[t] + l.corrSum)[b]);
#pragma GCC unroll 8
      for (int k = 0; k < 8; k++) {
        int32_t y4;
        std::memcpy(&y4, y + 4 * k, 4);
        sum = _mm512_dpbusd_epi32(sum, w[k], _mm512_set1_epi32(y4));
      }
      const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(reinterpret_cast<const float*>(acts[t] + l.d)[b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), d, acc[t]);
    }
  }
  for (int t = 0; t < TT; t++) _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, acc[t]);
}

/**
 * Batch sizes from which a panel pays for its transpose (2048×2048, 1 thread, panels vs the
 * row/token-pair tiles at 2–32 tokens): about 10 tokens for vec_dot (Q8_0: 139 vs 111 GOP/s at
 * 12), 16 for repacked Q4_0 (its tiles are already one FMA per block: 241 vs 221 at 16, 176 vs
 * 211 at 8).
 */
constexpr int64_t kPanelMinTokens = 10;
constexpr int64_t kPanelMinTokensBlockSum = 16;

/**
 * Rows [r0, r0 + 16·k) of every token through panels, with vec_dot arithmetic (or, for
 * BlockSum, the repacked Q4_0 one); returns the first row not done.
 */
template <B32 T, bool BlockSum>
int64_t panelRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.nTokens < (BlockSum ? kPanelMinTokensBlockSum : kPanelMinTokens)) return r0;
  const PanelLayout layout(B32Traits<Cfg, T>::kMin);
  uint8_t* panel = panelScratch(layout.blockBytes * static_cast<size_t>(p.layout.nBlocks));
  int64_t r = r0;
  for (; r + 16 <= r1; r += 16) {
    fillPanel<T>(p, r, panel, layout);
    int64_t t = 0;
    if (BlockSum) {
      for (; t + 8 <= p.nTokens; t += 8) panelTokensBlockSum<8>(p, panel, layout, r, t);
      for (; t < p.nTokens; t++) panelTokensBlockSum<1>(p, panel, layout, r, t);
    } else {
      for (; t + kPanelTokens <= p.nTokens; t += kPanelTokens) panelTokens<T, kPanelTokens>(p, panel, layout, r, t);
      for (; t < p.nTokens; t++) panelTokens<T, 1>(p, panel, layout, r, t);
    }
  }
  return r;
}

}  // namespace

uint8_t* panelScratch(size_t nBytes) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < nBytes + 64) buffer.resize(nBytes + 64);
  const uintptr_t at = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<uint8_t*>((at + 63) & ~uintptr_t(63));
}

int64_t block32PanelRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  switch (p.weightType) {
    case kQ4_0: return panelRows<B32::Q4_0, false>(p, r0, r1);
    case kQ4_1: return panelRows<B32::Q4_1, false>(p, r0, r1);
    case kQ5_0: return panelRows<B32::Q5_0, false>(p, r0, r1);
    case kQ5_1: return panelRows<B32::Q5_1, false>(p, r0, r1);
    case kQ8_0: return panelRows<B32::Q8_0, false>(p, r0, r1);
    default: return r0;
  }
}

int64_t q4_0PanelRows(const MatmulProblem& p, int64_t r0, int64_t r1) { return panelRows<B32::Q4_0, true>(p, r0, r1); }
int64_t iq4nlPanelRows(const MatmulProblem& p, int64_t r0, int64_t r1) { return panelRows<B32::IQ4_NL, true>(p, r0, r1); }

}  // namespace avx512
}  // namespace x86
}  // namespace ls
