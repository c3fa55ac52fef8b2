// Flash attention rows with AVX-512 intrinsics for headDim = 16·NV (NV ≤ 16): the arithmetic of
// generic/flash_lanes.h step for step (so of flashAttentionTypeScript), with a row's query and
// accumulator held in NV zmm registers instead of memory. Include only from x86/avx512_flash.cc
// (AVX-512 flags); everything has internal linkage.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "generic/attention.h"
#include "generic/flash_lanes.h"
#include "generic/libm_expf.h"
#include "x86/avx512.h"

namespace ls {
namespace x86 {
namespace flash512 {
namespace {

constexpr int kRoundNearestHalf = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

/** x rounded to half and widened back (vcvtps2ph, round to nearest even; vcvtph2ps). */
inline __m512 roundHalf(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, kRoundNearestHalf)); }
inline __m512 loadHalves(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

/** GCC's _mm512_reduce_add_ps, spelled out: t[i] = x[i+8] + x[i]; u[i] = t[i+4] + t[i]; (u0 + u2) + (u1 + u3). */
inline float reduceAdd16(__m512 x) {
  const __m256 t = _mm256_add_ps(_mm512_extractf32x8_ps(x, 1), _mm512_castps512_ps256(x));
  const __m128 u = _mm_add_ps(_mm256_extractf128_ps(t, 1), _mm256_castps256_ps128(t));
  const __m128 v = _mm_add_ps(u, _mm_movehl_ps(u, u));  // v0 = u0 + u2, v1 = u1 + u3
  return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));
}

/** ggml_vec_dot_f16 of a cached key row with the half query (registers q, scalars q16 for the double leftovers). */
template <int NV>
inline float keyDot(const uint16_t* key, const __m512* q, const float* q16) {
  constexpr int kSteps = NV / 4;  // whole 64-value steps
  double s = 0;
  if constexpr (kSteps > 0) {
    __m512 a[4];
    for (int j = 0; j < 4; j++) a[j] = _mm512_mul_ps(loadHalves(key + 16 * j), q[j]);  // from zeroed lanes: exact products
    for (int step = 1; step < kSteps; step++) {
      for (int j = 0; j < 4; j++) a[j] = _mm512_fmadd_ps(loadHalves(key + 64 * step + 16 * j), q[4 * step + j], a[j]);
    }
    s = reduceAdd16(_mm512_add_ps(_mm512_add_ps(a[0], a[2]), _mm512_add_ps(a[1], a[3])));
  }
  for (int i = 64 * kSteps; i < 16 * NV; i++) s += static_cast<double>(_cvtsh_ss(key[i])) * static_cast<double>(q16[i]);
  return static_cast<float>(s);
}

/** One row's running state of the one-chunk path: max, sum, and the half accumulator in registers. */
template <int NV>
struct Chunk {
  float m;
  float s;
  __m512 acc[NV];
};

/** glibcExpf (generic/libm_expf.h) of 8 f32 arguments ≤ 0 in f64 lanes: the same f64 steps, so the same results. */
inline __m256 glibcExpf8(__m256 x) {
  const __m512d xd = _mm512_cvtps_pd(x);
  const __m512d z = _mm512_mul_pd(_mm512_set1_pd(0x1.71547652b82fep+0 * 32), xd);
  const __m512d shifted = _mm512_add_pd(z, _mm512_set1_pd(0x1.8p52));
  const __m512i ki = _mm512_castpd_si512(shifted);
  const __m512d r = _mm512_sub_pd(z, _mm512_sub_pd(shifted, _mm512_set1_pd(0x1.8p52)));
  const __m512i t = _mm512_add_epi64(_mm512_i64gather_epi64(_mm512_and_si512(ki, _mm512_set1_epi64(31)), kExp2fTable, 8), _mm512_slli_epi64(ki, 47));
  const __m512d poly = _mm512_fmadd_pd(_mm512_set1_pd(0x1.c6af84b912394p-5 / 32768), r, _mm512_set1_pd(0x1.ebfce50fac4f3p-3 / 1024));
  const __m512d y = _mm512_fmadd_pd(poly, _mm512_mul_pd(r, r), _mm512_fmadd_pd(_mm512_set1_pd(0x1.62e42ff0c52d6p-1 / 32), r, _mm512_set1_pd(1.0)));
  const __m256 e = _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
  // below log(2^-150) (and −∞): 0, as glibc's underflow branch
  return _mm256_mask_blend_ps(_mm256_cmp_ps_mask(x, _mm256_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ), e, _mm256_setzero_ps());
}

/** One key's step of the half accumulator and the sum: ms = e on a new max (then vs = 1), else vs = e. */
template <int NV>
inline void accumulateKey(const FlashProblem& p, const flash::Row& r, int64_t key, bool higher, float e, Chunk<NV>* c) {
  const float ms = higher ? e : 1.0f;
  const float vs = higher ? 1.0f : e;
  if (higher) {
    const __m512 msv = _mm512_set1_ps(ms);
    for (int i = 0; i < NV; i++) c->acc[i] = roundHalf(_mm512_mul_ps(c->acc[i], msv));
  }
  const __m512 vsv = _mm512_set1_ps(vs);
  const uint16_t* v = p.values + key * r.nKv + r.kvOffset;
  for (int i = 0; i < NV; i++) c->acc[i] = roundHalf(_mm512_fmadd_ps(loadHalves(v + 16 * i), vsv, c->acc[i]));
  const float scaled = c->s * ms;
  c->s = scaled + vs;
}

/** Keys per block of the one-chunk loop's passes (bounds its scratch, whatever the context). */
constexpr int64_t kKeyBlock = 256;

/**
 * ggml's one-chunk loop over keys [from, to) ∩ visible, for a row whose half query is q / q16,
 * block by block in three passes with its arithmetic unchanged: every score of the block (they do
 * not depend on the running state), the running max with each key's expf argument (M − s on a new
 * max, else s − M), the block's expf 8 at a time, then the half accumulator and the sum key by
 * key. work: 2 · kKeyBlock floats.
 */
template <int NV>
inline Chunk<NV> oneChunk(const FlashProblem& p, const flash::Row& r, const __m512* q, const float* q16, int64_t from, int64_t to, float* work) {
  Chunk<NV> c{-INFINITY, 0.0f, {}};
  for (int i = 0; i < NV; i++) c.acc[i] = _mm512_setzero_ps();
  const int64_t end = std::min(to, r.lastKey + 1);
  float* e = work;
  float* newMax = work + kKeyBlock;
  for (int64_t first = std::max(from, r.firstKey); first < end; first += kKeyBlock) {
    const int64_t n = std::min(kKeyBlock, end - first);
    for (int64_t j = 0; j < n; j++) {
      const float s = keyDot<NV>(p.keys + (first + j) * r.nKv + r.kvOffset, q, q16) * p.scale;
      const bool higher = s > c.m;
      e[j] = higher ? c.m - s : s - c.m;
      newMax[j] = higher ? 1.0f : 0.0f;
      if (higher) c.m = s;
    }
    for (int64_t j = n; j < ((n + 7) & ~int64_t(7)); j++) e[j] = 0.0f;
    for (int64_t j = 0; j < n; j += 8) _mm256_storeu_ps(e + j, glibcExpf8(_mm256_loadu_ps(e + j)));
    for (int64_t j = 0; j < n; j++) accumulateKey<NV>(p, r, first + j, newMax[j] != 0.0f, e[j], &c);
  }
  return c;
}

/** The half query of a row: registers, and the same values as scalars. */
template <int NV>
inline void halfQuery(const float* q, __m512* qv, float* q16) {
  for (int i = 0; i < NV; i++) {
    qv[i] = roundHalf(_mm512_loadu_ps(q + 16 * i));
    _mm512_storeu_ps(q16 + 16 * i, qv[i]);
  }
}

/** A row by the one-chunk path, or (one row, n_kv ≥ 512) by chunks merged as fma(V, so, Vc·sn). */
template <int NV>
void row(const FlashProblem& p, const flash::Row& r, float* out, float* q16, float* work) {
  __m512 q[NV];
  halfQuery<NV>(r.q, q, q16);
  if (!(p.nTokens == 1 && p.nKvPadded >= flash::kSplitKvMin && p.kvChunks > 1)) {
    const Chunk<NV> c = oneChunk<NV>(p, r, q, q16, 0, p.nKvPadded, work);
    const __m512 inv = _mm512_set1_ps(c.s == 0.0f ? 0.0f : 1.0f / c.s);
    for (int i = 0; i < NV; i++) _mm512_storeu_ps(out + 16 * i, _mm512_mul_ps(c.acc[i], inv));
    return;
  }
  __m512 acc[NV];
  for (int i = 0; i < NV; i++) acc[i] = _mm512_setzero_ps();
  float m = -INFINITY;
  float s = 0.0f;
  const int64_t nKv = p.nKvPadded;
  const int64_t chunk = (nKv + p.kvChunks - 1) / p.kvChunks;
  for (int64_t k = 0; k < p.kvChunks && k * chunk < nKv; k++) {
    const Chunk<NV> part = oneChunk<NV>(p, r, q, q16, k * chunk, std::min(nKv, (k + 1) * chunk), work);
    if (part.s == 0.0f) continue;
    const float mNew = std::max(m, part.m);
    const __m512 scaleOld = _mm512_set1_ps(glibcExpf(m - mNew));
    const __m512 scaleNew = _mm512_set1_ps(glibcExpf(part.m - mNew));
    for (int i = 0; i < NV; i++) acc[i] = _mm512_fmadd_ps(acc[i], scaleOld, _mm512_mul_ps(part.acc[i], scaleNew));
    const float added = part.s * _mm512_cvtss_f32(scaleNew);
    s = std::fmaf(s, _mm512_cvtss_f32(scaleOld), added);
    m = mNew;
  }
  const __m512 inv = _mm512_set1_ps(s == 0.0f ? 1.0f : 1.0f / s);
  for (int i = 0; i < NV; i++) _mm512_storeu_ps(out + 16 * i, _mm512_mul_ps(acc[i], inv));
}

/** Scores of a row over a widened tile (keysT[d][k]): 4 zmm of sequential FMAs over d, ·scale, −∞ outside [lo, hi). */
template <int NV>
inline void tileScores(const float* q, const float* keysT, float scale, int64_t lo, int64_t hi, __m512* sc) {
  for (int j = 0; j < 4; j++) sc[j] = _mm512_setzero_ps();
  for (int d = 0; d < 16 * NV; d++) {
    const __m512 qd = _mm512_set1_ps(q[d]);
    for (int j = 0; j < 4; j++) sc[j] = _mm512_fmadd_ps(_mm512_loadu_ps(keysT + d * flash::kTile + 16 * j), qd, sc[j]);
  }
  const __m512 scalev = _mm512_set1_ps(scale);
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int j = 0; j < 4; j++) {
    const __m512i k = _mm512_add_epi32(lane, _mm512_set1_epi32(16 * j));
    const __mmask16 inside = _mm512_cmpge_epi32_mask(k, _mm512_set1_epi32(static_cast<int>(lo))) & _mm512_cmplt_epi32_mask(k, _mm512_set1_epi32(static_cast<int>(hi)));
    sc[j] = _mm512_mask_blend_ps(inside, _mm512_set1_ps(-INFINITY), _mm512_mul_ps(sc[j], scalev));
  }
}

/** One row's step over a tile (see flash::tileRowStep): rescale on a new max, softmax into S, Σ p·V. */
template <int NV>
inline void tileRowStep(const float* values32, int64_t lo, int64_t hi, __m512* sc, float* probs, float* accRow, float* m, float* s) {
  const float tileMax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(sc[0], sc[1]), _mm512_max_ps(sc[2], sc[3])));
  const float mNew = std::max(*m, tileMax);
  __m512 acc[NV];
  for (int i = 0; i < NV; i++) acc[i] = _mm512_loadu_ps(accRow + 16 * i);
  if (mNew > *m) {
    const float ms = glibcExpf(*m - mNew);
    const __m512 msv = _mm512_set1_ps(ms);
    for (int i = 0; i < NV; i++) acc[i] = _mm512_mul_ps(acc[i], msv);
    *s *= ms;
  }
  *m = mNew;
  double sum = 0;
  const __m512 maxv = _mm512_set1_ps(mNew);
  for (int j = 0; j < 4; j++) {
    const __m512 e = avx512::expf16(_mm512_sub_ps(sc[j], maxv));
    _mm512_storeu_ps(probs + 16 * j, e);
    sum += reduceAdd16(e);
  }
  *s = static_cast<float>(static_cast<double>(*s) + sum);
  for (int64_t k = lo; k < hi; k++) {
    const __m512 pk = _mm512_set1_ps(probs[k]);
    const float* v = values32 + k * 16 * NV;
    for (int i = 0; i < NV; i++) acc[i] = _mm512_fmadd_ps(pk, _mm512_loadu_ps(v + 16 * i), acc[i]);
  }
  for (int i = 0; i < NV; i++) _mm512_storeu_ps(accRow + 16 * i, acc[i]);
}

/** The tiled path for a block of rows (see flash::tiledBlock), K and V widened once per tile. */
template <int NV, class Halves>
void tiledBlock(const flash::TileBlock& b, float* scratch) {
  constexpr int64_t headDim = 16 * NV;
  const FlashProblem& p = *b.p;
  float* keysT = scratch;
  float* values32 = keysT + flash::kTile * headDim;
  float* rowBuf = values32 + flash::kTile * headDim;
  float* probs = rowBuf + headDim;
  float* acc = probs + flash::kTile;  // [nRows][headDim]
  float m[flash::kTileBlockRows];
  float s[flash::kTileBlockRows];
  std::fill(acc, acc + b.nRows * headDim, 0.0f);
  std::fill(m, m + b.nRows, -INFINITY);
  std::fill(s, s + b.nRows, 0.0f);
  int64_t blockFirst, blockLast, unused;
  flash::visibleKeys(p, b.t0, &blockFirst, &unused);
  flash::visibleKeys(p, b.t0 + b.nRows - 1, &unused, &blockLast);
  const int64_t nQ = p.nHead * headDim;
  for (int64_t tile = 0; tile < p.nKvPadded; tile += flash::kTile) {
    const int64_t from = std::max(tile, blockFirst);
    const int64_t to = std::min(tile + flash::kTile, blockLast + 1);
    if (from >= to) continue;
    flash::widenTile<Halves>(b, tile, from, to, keysT, values32, rowBuf);
    for (int64_t i = 0; i < b.nRows; i++) {
      int64_t first, last;
      flash::visibleKeys(p, b.t0 + i, &first, &last);
      const int64_t lo = std::max(tile, first) - tile;
      const int64_t hi = std::min(tile + flash::kTile, last + 1) - tile;
      if (lo >= hi) continue;
      __m512 sc[4];
      tileScores<NV>(p.q + (b.t0 + i) * nQ + b.h * headDim, keysT, p.scale, lo, hi, sc);
      tileRowStep<NV>(values32, lo, hi, sc, probs, acc + i * headDim, &m[i], &s[i]);
    }
  }
  for (int64_t i = 0; i < b.nRows; i++) {
    const __m512 inv = _mm512_set1_ps(s[i] == 0.0f ? 0.0f : 1.0f / s[i]);
    float* out = p.out + (b.t0 + i) * nQ + b.h * headDim;
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(out + 16 * v, _mm512_mul_ps(_mm512_loadu_ps(acc + i * headDim + 16 * v), inv));
  }
}

/** FlashKernel body for headDim = 16·NV. */
template <int NV, class Halves>
void rows(const FlashProblem& p, int64_t t0, int64_t nRows, int64_t h, float* scratch) {
  const int64_t kvOffset = h / (p.nHead / p.nHeadKv) * p.headDim;
  const int64_t nKv = p.nHeadKv * p.headDim;
  if (flashTiled(p)) return tiledBlock<NV, Halves>(flash::TileBlock{&p, kvOffset, nKv, t0, nRows, h}, scratch);
  for (int64_t t = t0; t < t0 + nRows; t++) {
    int64_t first, last;
    flash::visibleKeys(p, t, &first, &last);
    const flash::Row r{&p, kvOffset, nKv, first, last, p.q + t * p.nHead * p.headDim + h * p.headDim, scratch};
    row<NV>(p, r, p.out + t * p.nHead * p.headDim + h * p.headDim, scratch, scratch + 16 * NV);
  }
}

}  // namespace
}  // namespace flash512
}  // namespace x86
}  // namespace ls
