// AVX-512 kernels for 32-value blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL; built into the
// AVX-512 library): the same arithmetic as the ymm tiles (x86/ymm_block32.h), with two outputs'
// 8-lane accumulators per zmm (row pairs for one token, token pairs for batches), or 16 outputs per
// zmm where an output has a single accumulator (repacked Q4_0 and IQ4_NL, whose codes are the
// table values + 128 by pshufb); big batches go through the 16-row panels of
// x86/avx512_panels.cc. IQ4_NL's other paths are the ymm kernels of x86/ymm_iq4nl.h.
#include <immintrin.h>

#include <vector>

#include "generic/kernels.h"
#include "generic/pack.h"
#include "x86/avx512.h"
#include "x86/ymm.h"
#include "x86/ymm_block32.h"
#include "x86/ymm_iq4nl.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

typedef Avx512Config Cfg;

/**
 * v[j] holds, in its 128-bit chunk c, 4 partial sums of row 4j + c. Returns the 16 exact row
 * totals, lane 4c + j = row 4j + c.
 */
inline __m512i transposeSum4x16(const __m512i v[4]) {
  const __m512i s01 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i s23 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(s01, s23), _mm512_unpackhi_epi64(s01, s23));
}

/**
 * Byte offsets, from a block, of the f16 scale each lane reads: lane L = 4c + j reads row 4j + c
 * (the order transposeSum4x16 and the lane transpose leave; 15 rows of < 2^31 / 15 bytes).
 */
inline __m512i scaleOffsetsFor(size_t stride) {
  alignas(64) int32_t rowOffsets[16];
  for (int lane = 0; lane < 16; lane++) rowOffsets[lane] = static_cast<int32_t>((4 * (lane % 4) + lane / 4) * stride);
  return _mm512_load_si512(rowOffsets);
}

/** The 16 code bytes of rows 4g..4g+3 of a 16-row Q4_0 tile's block, chunk c = row 4g + c. */
inline __m512i loadRowGroup(const uint8_t* block, size_t stride, int g) {
  const uint8_t* q = block + 4 * g * stride + 2;
  __m512i z = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + stride)), 1);
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 2 * stride)), 2);
  return _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 3 * stride)), 3);
}

/**
 * The block's 16 scales as f32, lane order as scaleOffsetsFor: one dword gather (d and 2 code
 * bytes; the low half is d). 16 scalar loads stored to a stack array and reloaded took 40% of a
 * one-token call (store forwarding fails).
 */
inline __m512 blockScales(const uint8_t* block, __m512i offsets) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(offsets, block, 1)));
}

/**
 * Block b of the 16-row tile at row0, read from the file's row order (kPacked false: 16 loads
 * inserted into 4 zmm and a gather of the scales) or from kTiles16 (generic/pack.h: 4 loads and
 * one widening load, the same values in the same lanes).
 */
template <bool kPacked>
struct Tile16 {
  const uint8_t* rows;
  size_t stride;
  __m512i scaleOffsets;
  Tile16(const MatmulProblem& p, int64_t row0) : rows(p.weight + row0 * p.weightRowBytes), stride(p.weightRowBytes), scaleOffsets(scaleOffsetsFor(stride)) {}
  /** chunk c: the 16 code bytes of row 4g + c */
  __m512i group(int64_t b, int g) const { return loadRowGroup(rows + b * 18, stride, g); }
  /** lane L: the scale of row packedScaleRow(L) */
  __m512 scales(int64_t b) const { return blockScales(rows + b * 18, scaleOffsets); }
};

template <>
struct Tile16<true> {
  const uint8_t* tile;
  Tile16(const MatmulProblem& p, int64_t row0) : tile(p.weight + row0 * p.weightRowBytes) {}
  __m512i group(int64_t b, int g) const { return _mm512_loadu_si512(tile + b * kTile16BlockBytes + 32 + 64 * g); }
  __m512 scales(int64_t b) const { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + b * kTile16BlockBytes))); }
};

/**
 * Codes of a repacked type from its nibbles (in place, bytewise): Q4_0 keeps them (the unsigned
 * nibble, bias 8), IQ4_NL looks up ggml's table value + 128 (bias 128).
 */
template <B32 T>
inline __m512i repackedCodes(__m512i nibbles) {
  if constexpr (T == B32::IQ4_NL) {
    const __m128i table = _mm_xor_si128(_mm_load_si128(reinterpret_cast<const __m128i*>(kIq4Values)), _mm_set1_epi8(static_cast<char>(0x80)));
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table), nibbles);
  } else {
    return nibbles;
  }
}

/** Stores TT tokens' 16 row outputs (acc in lane order) at rows row0.. of tokens token0.. */
template <int TT>
inline void storeRows16(const MatmulProblem& p, const __m512 acc[TT], int64_t row0, int64_t token0) {
  const __m512i order = transposedRowOrder();
  for (int t = 0; t < TT; t++) _mm512_storeu_ps(p.out + (token0 + t) * p.nRows + row0, _mm512_permutexvar_ps(order, acc[t]));
}

/** Repacked Q4_0 / IQ4_NL, 16 rows × TT tokens: acc[row] = fma(Σ q·y, d_w·d_y, acc[row]) per block. */
template <B32 T, int TT, bool kPacked>
void repacked16(const MatmulProblem& p, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  const Tile16<kPacked> tile(p, row0);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[TT];
  for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
  NextTilePrefetch next(p, row0 + 16, 16, l.nBlocks);  // the next tile
  // the first token group streams the tile from memory: fetch the next tile meanwhile; packed
  // tiles are one contiguous run: one token prefetches it 4 KiB ahead (prefetchStream; on an EPYC
  // a T1 prefetch of the next tile there made decode 3-5% slower)
  const bool prefetch = !kPacked && (TT == 1 || token0 == 0);
  const uint8_t* stream = p.weight + row0 * p.weightRowBytes + kPackedStreamPrefetchBytes;
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (prefetch) next.step(b);
    if (kPacked && TT == 1) prefetchStream(stream + b * kTile16BlockBytes, kTile16BlockBytes, p.streamPrefetch);
    __m512i lo[4], hi[4];
    for (int g = 0; g < 4; g++) {
      const __m512i z = tile.group(b, g);
      lo[g] = repackedCodes<T>(_mm512_and_si512(z, m4));
      hi[g] = repackedCodes<T>(_mm512_and_si512(_mm512_srli_epi16(z, 4), m4));
    }
    const __m512 dw = tile.scales(b);
    for (int t = 0; t < TT; t++) {
      const uint8_t* a = p.act + (token0 + t) * l.tokenBytes;
      const uint8_t* y = a + l.qs + 32 * b;
      const int32_t* corr8 = reinterpret_cast<const int32_t*>(a + l.corr) + 8 * b;
      const __m512i ylo = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(y)));
      const __m512i yhi = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(y + 16)));
      const __m512i corr = _mm512_broadcast_i32x4(
          _mm_add_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(corr8)), _mm_load_si128(reinterpret_cast<const __m128i*>(corr8 + 4))));
      __m512i v[4];
      for (int g = 0; g < 4; g++) v[g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, lo[g], ylo), hi[g], yhi);
      const __m512 sums = _mm512_cvtepi32_ps(transposeSum4x16(v));
      const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(reinterpret_cast<const float*>(a + l.d)[b]));
      acc[t] = _mm512_fmadd_ps(sums, d, acc[t]);
    }
  }
  storeRows16<TT>(p, acc, row0, token0);
}

/**
 * Σ of the 8 `corr` values of every (token, block) of the call: the whole-block correction of the
 * unsigned codes, [t · nBlocks + b] (per thread, kept between calls).
 */
const int32_t* blockCorrTotals(const MatmulProblem& p) {
  thread_local std::vector<int32_t> totals;
  const ActLayout& l = p.layout;
  totals.resize(static_cast<size_t>(p.nTokens * l.nBlocks));
  for (int64_t t = 0; t < p.nTokens; t++) {
    const int32_t* corr = reinterpret_cast<const int32_t*>(p.act + t * l.tokenBytes + l.corr);
    for (int64_t b = 0; b < l.nBlocks; b++, corr += 8) {
      int32_t sum = 0;
      for (int k = 0; k < 8; k++) sum += corr[k];
      totals[t * l.nBlocks + b] = sum;
    }
  }
  return totals.data();
}

/**
 * Repacked Q4_0 / IQ4_NL, 16 rows × TT tokens (TT ≥ 2), the same arithmetic as repacked16 (the exact
 * integer Σ q·y of a block, then one fma by d_w·d_y): the 4×4 dwords of each row group are
 * transposed once per block, so lane L = 4c + j holds row 4j + c whole, every dpbusd takes one
 * broadcast activation dword, and a token's sums need no horizontal reduction (the shuffles that
 * bound repacked16 on batches).
 */
template <B32 T, int TT, bool kPacked>
void lanes16(const MatmulProblem& p, const int32_t* corrTotals, int64_t row0, int64_t token0) {
  const ActLayout& l = p.layout;
  const Tile16<kPacked> tile(p, row0);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[TT];
  for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
  NextTilePrefetch next(p, row0 + 16, 16, l.nBlocks);
  const bool prefetch = !kPacked && token0 == 0;  // the first token group streams the tile from memory (packed: see repacked16)
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (prefetch) next.step(b);
    __m512i z[4];  // chunk c of z[g]: the 16 code bytes of row 4g + c
    for (int g = 0; g < 4; g++) z[g] = tile.group(b, g);
    // w[k], chunk c, lane j: dword k of row 4j + c (codes 4k..4k+3 low nibbles, 16+4k.. high)
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    const __m512i w[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2), _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
    __m512i lo[4], hi[4];
    for (int k = 0; k < 4; k++) {
      lo[k] = repackedCodes<T>(_mm512_and_si512(w[k], m4));
      hi[k] = repackedCodes<T>(_mm512_and_si512(_mm512_srli_epi16(w[k], 4), m4));
    }
    const __m512 dw = tile.scales(b);
    for (int t = 0; t < TT; t++) {
      const uint8_t* a = p.act + (token0 + t) * l.tokenBytes;
      const int32_t* y = reinterpret_cast<const int32_t*>(a + l.qs + 32 * b);
      __m512i v = _mm512_set1_epi32(corrTotals[(token0 + t) * l.nBlocks + b]);
      for (int k = 0; k < 4; k++) {
        v = _mm512_dpbusd_epi32(v, lo[k], _mm512_set1_epi32(y[k]));
        v = _mm512_dpbusd_epi32(v, hi[k], _mm512_set1_epi32(y[4 + k]));
      }
      const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(reinterpret_cast<const float*>(a + l.d)[b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), d, acc[t]);
    }
  }
  storeRows16<TT>(p, acc, row0, token0);
}

/** two ymm → zmm [lo | hi] */
inline __m512i joinI(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
inline __m512 joinF(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }

/** Block-32 vec_dot, one token, rows in pairs: zmm lanes 0..7 row r, 8..15 row r + 1. P pairs. */
template <B32 T, int P>
void block32VecRowPairs(const MatmulProblem& p, int64_t row0, int64_t token) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  constexpr int R = 2 * P;
  __m512 acc[P];
  float summs[R];
  for (int i = 0; i < P; i++) acc[i] = _mm512_setzero_ps();
  for (int r = 0; r < R; r++) summs[r] = 0.0f;
  const uint8_t* rows[R];
  for (int r = 0; r < R; r++) rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
  const uint8_t* a = p.act + token * l.tokenBytes;
  const float* ad = reinterpret_cast<const float*>(a + l.d);
  const float* as = reinterpret_cast<const float*>(a + l.s);
  NextTilePrefetch next(p, row0 + R, R, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    next.step(b);
    const __m512i y = _mm512_broadcast_i64x4(_mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.qs + 32 * b)));
    const __m512i corr = Tr::kCorr != 0 ? _mm512_broadcast_i64x4(_mm256_load_si256(reinterpret_cast<const __m256i*>(a + l.corr) + b)) : _mm512_setzero_si512();
    const __m512 da = _mm512_set1_ps(ad[b]);
    for (int i = 0; i < P; i++) {
      const uint8_t* b0 = rows[2 * i] + b * Tr::kBytes;
      const uint8_t* b1 = rows[2 * i + 1] + b * Tr::kBytes;
      const __m512i codes = joinI(Tr::codes(b0), Tr::codes(b1));
      const __m512 dw = joinF(_mm256_set1_ps(halfToF32(b0)), _mm256_set1_ps(halfToF32(b1)));
      const __m512 q = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, codes, y));
      const __m512 d = _mm512_mul_ps(dw, da);
      acc[i] = T == B32::Q5_1 ? _mm512_fmadd_ps(q, d, acc[i]) : _mm512_fmadd_ps(d, q, acc[i]);
      if (Tr::kMin) {
        summs[2 * i] = std::fma(halfToF32(b0 + 2), as[b], summs[2 * i]);
        summs[2 * i + 1] = std::fma(halfToF32(b1 + 2), as[b], summs[2 * i + 1]);
      }
    }
  }
  float* out = p.out + token * p.nRows + row0;
  for (int i = 0; i < P; i++) {
    const float s0 = hsumF8(_mm512_castps512_ps256(acc[i]));
    const float s1 = hsumF8(_mm512_extractf32x8_ps(acc[i], 1));
    out[2 * i] = Tr::kMin ? s0 + summs[2 * i] : s0;
    out[2 * i + 1] = Tr::kMin ? s1 + summs[2 * i + 1] : s1;
  }
}

/** Block-32 vec_dot, tokens in pairs: zmm lanes 0..7 token t, 8..15 token t + 1. R rows × P pairs. */
template <B32 T, int R, int P>
void block32VecTokenPairs(const MatmulProblem& p, int64_t row0, int64_t token0) {
  typedef B32Traits<Cfg, T> Tr;
  const ActLayout& l = p.layout;
  __m512 acc[R][P];
  float summs[R][2 * P];
  for (int r = 0; r < R; r++) {
    for (int i = 0; i < P; i++) acc[r][i] = _mm512_setzero_ps();
    for (int t = 0; t < 2 * P; t++) summs[r][t] = 0.0f;
  }
  const uint8_t* rows[R];
  for (int r = 0; r < R; r++) rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
  const uint8_t* acts[2 * P];
  for (int t = 0; t < 2 * P; t++) acts[t] = p.act + (token0 + t) * l.tokenBytes;
  NextTilePrefetch next(p, row0 + R, R, l.nBlocks);
  for (int64_t b = 0; b < l.nBlocks; b++) {
    if (token0 == 0) next.step(b);  // the first token group streams the tile in
    __m512i codes[R];
    float dw[R], mw[R];
    for (int r = 0; r < R; r++) {
      const uint8_t* block = rows[r] + b * Tr::kBytes;
      codes[r] = _mm512_broadcast_i64x4(Tr::codes(block));
      dw[r] = halfToF32(block);
      if (Tr::kMin) mw[r] = halfToF32(block + 2);
    }
    for (int i = 0; i < P; i++) {
      const uint8_t* a0 = acts[2 * i];
      const uint8_t* a1 = acts[2 * i + 1];
      const __m512i y = joinI(_mm256_load_si256(reinterpret_cast<const __m256i*>(a0 + l.qs + 32 * b)),
                              _mm256_load_si256(reinterpret_cast<const __m256i*>(a1 + l.qs + 32 * b)));
      const __m512i corr = Tr::kCorr != 0 ? joinI(_mm256_load_si256(reinterpret_cast<const __m256i*>(a0 + l.corr) + b),
                                                  _mm256_load_si256(reinterpret_cast<const __m256i*>(a1 + l.corr) + b))
                                            : _mm512_setzero_si512();
      const float da0 = reinterpret_cast<const float*>(a0 + l.d)[b], da1 = reinterpret_cast<const float*>(a1 + l.d)[b];
      const __m512 da = joinF(_mm256_set1_ps(da0), _mm256_set1_ps(da1));
      for (int r = 0; r < R; r++) {
        const __m512 q = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, codes[r], y));
        const __m512 d = _mm512_mul_ps(_mm512_set1_ps(dw[r]), da);
        acc[r][i] = T == B32::Q5_1 ? _mm512_fmadd_ps(q, d, acc[r][i]) : _mm512_fmadd_ps(d, q, acc[r][i]);
        if (Tr::kMin) {
          summs[r][2 * i] = std::fma(mw[r], reinterpret_cast<const float*>(a0 + l.s)[b], summs[r][2 * i]);
          summs[r][2 * i + 1] = std::fma(mw[r], reinterpret_cast<const float*>(a1 + l.s)[b], summs[r][2 * i + 1]);
        }
      }
    }
  }
  for (int i = 0; i < P; i++) {
    for (int r = 0; r < R; r++) {
      const float s0 = hsumF8(_mm512_castps512_ps256(acc[r][i]));
      const float s1 = hsumF8(_mm512_extractf32x8_ps(acc[r][i], 1));
      p.out[(token0 + 2 * i) * p.nRows + row0 + r] = Tr::kMin ? s0 + summs[r][2 * i] : s0;
      p.out[(token0 + 2 * i + 1) * p.nRows + row0 + r] = Tr::kMin ? s1 + summs[r][2 * i + 1] : s1;
    }
  }
}

template <B32 T>
void block32VecRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.nTokens == 1) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) block32VecRowPairs<T, 2>(p, r, 0);
    for (; r + 2 <= r1; r += 2) block32VecRowPairs<T, 1>(p, r, 0);
    for (; r < r1; r++) block32VecTile<Cfg, T, 1, 1>(p, r, 0);
    return;
  }
  const int64_t nPaired = p.nTokens & ~int64_t(3);
  const int64_t nOctets = B32Traits<Cfg, T>::kMin ? 0 : p.nTokens & ~int64_t(7);
  int64_t r = block32PanelRows(p, r0, r1);
  for (; r + 4 <= r1; r += 4) {
    for (int64_t t = 0; t < nOctets; t += 8) block32VecTokenPairs<T, 4, 4>(p, r, t);
    for (int64_t t = nOctets; t < nPaired; t += 4) block32VecTokenPairs<T, 4, 2>(p, r, t);
    for (int64_t t = nPaired; t < p.nTokens; t++) block32VecTile<Cfg, T, 4, 1>(p, r, t);
  }
  for (; r < r1; r++) {
    for (int64_t t = 0; t < nPaired; t += 4) block32VecTokenPairs<T, 1, 2>(p, r, t);
    for (int64_t t = nPaired; t < p.nTokens; t++) block32VecTile<Cfg, T, 1, 1>(p, r, t);
  }
}

/** Repacked Q4_0 / IQ4_NL rows [r0, r1): panels for big batches, 16-row tiles, then the ymm 8-row tiles. */
template <B32 T, bool kPacked>
int64_t repackedTiles16(const MatmulProblem& p, int64_t r, int64_t r1) {
  const int32_t* totals = p.nTokens >= 2 && r + 16 <= r1 ? blockCorrTotals(p) : nullptr;
  for (; r + 16 <= r1; r += 16) {
    int64_t t = 0;
    for (; t + 8 <= p.nTokens; t += 8) lanes16<T, 8, kPacked>(p, totals, r, t);  // weights unpacked once per 8 tokens
    for (; t + 4 <= p.nTokens; t += 4) lanes16<T, 4, kPacked>(p, totals, r, t);
    for (; t + 2 <= p.nTokens; t += 2) lanes16<T, 2, kPacked>(p, totals, r, t);
    for (; t < p.nTokens; t++) repacked16<T, 1, kPacked>(p, r, t);
  }
  return r;
}

/** Rows [r0, r1) (whole tiles when packed: generic/pack.h) */
template <B32 T>
void repackedRows16(const MatmulProblem& p, int64_t r0, int64_t r1) {
  int64_t r = T == B32::Q4_0 ? q4_0PanelRows(p, r0, r1) : iq4nlPanelRows(p, r0, r1);
  if (p.packedRows == kPackRows) {
    repackedTiles16<T, true>(p, r, r1);
    return;
  }
  r = repackedTiles16<T, false>(p, r, r1);
  repackedRows<Cfg, T>(p, r, r1);
}

template <B32 T>
void block32Rows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if constexpr (T == B32::Q4_0) {
    if (p.route.single == Arith::RepackedGemv) {
      repackedRows16<T>(p, r0, r1);
      return;
    }
  }
  block32VecRows<T>(p, r0, r1);
}

}  // namespace

void q4_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { block32Rows<B32::Q4_0>(p, r0, r1); }
void q4_1Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { block32Rows<B32::Q4_1>(p, r0, r1); }
void q5_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { block32Rows<B32::Q5_0>(p, r0, r1); }
void q5_1Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { block32Rows<B32::Q5_1>(p, r0, r1); }
void q8_0Rows(const MatmulProblem& p, int64_t r0, int64_t r1) { block32Rows<B32::Q8_0>(p, r0, r1); }

void iq4nlRows(const MatmulProblem& p, int64_t r0, int64_t r1) {
  if (p.route.single == Arith::RepackedGemv) repackedRows16<B32::IQ4_NL>(p, r0, r1);
  else iq4nlRowsFrom<Cfg>(p, r0, r1);  // tinyBLAS / vec_dot: the ymm kernels
}

}  // namespace avx512
}  // namespace x86
}  // namespace ls
