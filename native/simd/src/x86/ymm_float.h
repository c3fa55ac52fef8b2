// x86 kernels for F32, F16 and BF16 rows: ggml_vec_dot_f32/_f16/_bf16 of the AVX-512 build and
// llamafile's tinyBLAS tiles, written for a vector of 16 f32 lanes: Ymm16 (two ymm) in the AVX2
// library, Zmm16 (one zmm, x86/avx512_float.cc) in the AVX-512 one, chosen by the row loader's
// `load16`. Everything here has internal linkage.
#pragma once

#include "x86/ymm.h"

namespace ls {
namespace x86 {
namespace {

/** 16 f32 lanes (the vector of tinyBLAS and of ggml's AVX-512 vec_dot) as two ymm: lanes 0..7, 8..15. */
struct Ymm16 {
  __m256 lo, hi;
  static Ymm16 zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static Ymm16 add(Ymm16 a, Ymm16 b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
  static Ymm16 fmadd(Ymm16 a, Ymm16 b, Ymm16 c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
  /** vdpbf16ps over 32 bf16 values: lane j += odd·odd, then even·even of pair j (dpbf16x8) */
  static Ymm16 dpbf16(Ymm16 acc, const uint8_t* w, const uint8_t* a);
  /** GCC's _mm512_reduce_add_ps */
  static float reduce(Ymm16 x) { return reduceAdd16(x.lo, x.hi); }
};

struct F32Src {
  static __m256 load(const uint8_t* p, int64_t i) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + i); }
  static Ymm16 load16(const uint8_t* p, int64_t i) { return {load(p, i), load(p, i + 8)}; }
};
struct F16Src {
  static __m256 load(const uint8_t* p, int64_t i) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i))); }
  static Ymm16 load16(const uint8_t* p, int64_t i) { return {load(p, i), load(p, i + 8)}; }
};

/**
 * The lanes of ggml_vec_dot_f32 / _f16 of the AVX-512 build (vecDotF32/F16): 4 accumulators of 16
 * lanes (Src's load16: Ymm16 here, a zmm in x86/avx512_float.cc) over 64-value steps, folded
 * (a0+a2)+(a1+a3), reduced.
 */
template <typename Src>
float vec64(const uint8_t* w, const uint8_t* a, int64_t np) {
  typedef decltype(Src::load16(nullptr, 0)) Lanes;
  Lanes acc[4];
  for (int k = 0; k < 4; k++) acc[k] = Lanes::zero();
  for (int64_t i = 0; i < np; i += 64) {
    for (int k = 0; k < 4; k++) acc[k] = Lanes::fmadd(Src::load16(w, i + 16 * k), Src::load16(a, i + 16 * k), acc[k]);
  }
  return Lanes::reduce(Lanes::add(Lanes::add(acc[0], acc[2]), Lanes::add(acc[1], acc[3])));
}

/** 8 lanes of vdpbf16ps on 16 bf16 pairs: acc += odd·odd, then acc += even·even. */
inline __m256 dpbf16x8(__m256 acc, const uint8_t* w, const uint8_t* a) {
  const __m256i wx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i ax = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  acc = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(wx, high)), _mm256_castsi256_ps(_mm256_and_si256(ax, high)), acc);
  return _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(wx, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(ax, 16)), acc);
}

inline Ymm16 Ymm16::dpbf16(Ymm16 acc, const uint8_t* w, const uint8_t* a) { return {dpbf16x8(acc.lo, w, a), dpbf16x8(acc.hi, w + 32, a + 32)}; }

/** ggml_vec_dot_bf16 (AVX512_BF16): two 16-lane vdpbf16ps accumulators over 64-value steps. */
inline float dotBF16Vec(const uint8_t* w, const uint8_t* a, int64_t n) {
  Ymm16 c1 = Ymm16::zero(), c2 = Ymm16::zero();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    c1 = Ymm16::dpbf16(c1, w + 2 * i, a + 2 * i);
    c2 = Ymm16::dpbf16(c2, w + 2 * (i + 32), a + 2 * (i + 32));
  }
  double sum = 0.0;
  sum += static_cast<double>(Ymm16::reduce(c1));
  sum += static_cast<double>(Ymm16::reduce(c2));
  for (; i < n; i++) sum += static_cast<double>(bf16ToF32(loadU16(w + 2 * i)) * bf16ToF32(loadU16(a + 2 * i)));
  return static_cast<float>(sum);
}

/**
 * llamafile tinyBLAS: R rows × TT tokens (forEachTile), one 16-lane f32 accumulator per output,
 * 16 values per step. Src loads 16 values of the row type as the build's 16 lanes (its `load16`):
 * Ymm16 here, one zmm in x86/avx512_float.cc.
 */
template <typename Src>
struct Tiled16 {
  typedef decltype(Src::load16(nullptr, 0)) Lanes;
  template <int R, int TT>
  static void tile(const MatmulProblem& p, int64_t row0, int64_t token0) {
    Lanes acc[R][TT];
    for (int r = 0; r < R; r++) for (int t = 0; t < TT; t++) acc[r][t] = Lanes::zero();
    const uint8_t* rows[R];
    for (int r = 0; r < R; r++) rows[r] = p.weight + (row0 + r) * p.weightRowBytes;
    const uint8_t* acts[TT];
    for (int t = 0; t < TT; t++) acts[t] = p.act + (token0 + t) * p.layout.tokenBytes;
    for (int64_t i = 0; i < p.nCols; i += 16) {
      Lanes w[R];
      for (int r = 0; r < R; r++) w[r] = Src::load16(rows[r], i);
      for (int t = 0; t < TT; t++) {
        const Lanes a = Src::load16(acts[t], i);
        for (int r = 0; r < R; r++) acc[r][t] = Lanes::fmadd(w[r], a, acc[r][t]);
      }
    }
    for (int t = 0; t < TT; t++) for (int r = 0; r < R; r++) p.out[(token0 + t) * p.nRows + row0 + r] = Lanes::reduce(acc[r][t]);
  }
};

/** llamafile tinyBLAS for bf16 (forEachTile): 16 vdpbf16ps lanes (Lanes: Ymm16 or a zmm) over 32 values per step. */
template <typename Lanes>
struct TiledBF16 {
  template <int R, int TT>
  static void tile(const MatmulProblem& p, int64_t row0, int64_t token0) {
    Lanes acc[R][TT];
    for (int r = 0; r < R; r++) for (int t = 0; t < TT; t++) acc[r][t] = Lanes::zero();
    for (int64_t i = 0; i < p.nCols; i += 32) {
      for (int t = 0; t < TT; t++) {
        const uint8_t* a = p.act + (token0 + t) * p.layout.tokenBytes + 2 * i;
        for (int r = 0; r < R; r++) acc[r][t] = Lanes::dpbf16(acc[r][t], p.weight + (row0 + r) * p.weightRowBytes + 2 * i, a);
      }
    }
    for (int t = 0; t < TT; t++) for (int r = 0; r < R; r++) p.out[(token0 + t) * p.nRows + row0 + r] = Lanes::reduce(acc[r][t]);
  }
};

}  // namespace
}  // namespace x86
}  // namespace ls
