// The pieces of the AVX-512 attention kernels (x86/avx512_attention.cc: a head alone or the query
// heads of one KV head; x86/avx512_attention_heads.cc: a block of heads without GQA): loads, the
// K·Q lanes and their reductions, the softmax, the KQV lanes, prefetches. Their arithmetic, and
// why it is llama.cpp's bit for bit, is described at the top of x86/avx512_attention.cc.
// Include only from the AVX-512 library.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "generic/attention.h"
#include "x86/avx512.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace attn {

inline __mmask16 tailMask(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

/** GCC's _mm512_reduce_add_ps: t[i] = x[i+8] + x[i]; u[i] = t[i+4] + t[i]; (u0 + u2) + (u1 + u3). */
inline float reduceAdd16(__m512 x) {
  const __m256 t = _mm256_add_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
  const __m128 u = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
  const __m128 v = _mm_add_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, _MM_SHUFFLE(0, 0, 0, 1))));
}

/** The same reduction applied element-wise to 16 vectors r[0..15] (one per lane). */
inline __m512 reduceAdd16Rows(const __m512* r) {
  __m512 t[8], u[4];
  for (int i = 0; i < 8; i++) t[i] = _mm512_add_ps(r[i + 8], r[i]);
  for (int i = 0; i < 4; i++) u[i] = _mm512_add_ps(t[i + 4], t[i]);
  return _mm512_add_ps(_mm512_add_ps(u[0], u[2]), _mm512_add_ps(u[1], u[3]));
}

/** f32 → half (round to nearest even) → f32. */
inline __m512 roundToHalf(__m512 x) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

inline __m512 loadHalves(const uint16_t* p, __mmask16 mask) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
}

inline float halfToF32(uint16_t h) { return _cvtsh_ss(h); }

// K and V rows are read either as the cached halves or as a block of them already widened to f32
// (shared by the query heads of one KV head): vcvtph2ps is exact, so both give the same f32 values
// and every product and FMA below is the same.
inline __m512 load16(const uint16_t* p, __mmask16 mask) { return loadHalves(p, mask); }
inline __m512 load16(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
inline float valueAt(const uint16_t* p) { return halfToF32(*p); }
inline float valueAt(const float* p) { return *p; }

/** rows[r·ldRows + d] ← the n rows src + r·stride (headDim halves each) widened to f32, zero-padded to 16. */
inline void widenRows(const uint16_t* src, int64_t stride, int64_t n, int64_t headDim, float* rows, int64_t ldRows) {
  if (headDim == 64) {  // the common head size, unrolled
    for (int64_t r = 0; r < n; r++) {
#pragma GCC unroll 4
      for (int64_t d = 0; d < 64; d += 16) _mm512_storeu_ps(rows + r * ldRows + d, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + r * stride + d))));
    }
    return;
  }
  for (int64_t r = 0; r < n; r++) {
    for (int64_t d = 0; d < headDim; d += 16) _mm512_storeu_ps(rows + r * ldRows + d, loadHalves(src + r * stride + d, tailMask(headDim - d)));
  }
}


/**
 * The lanes of K·Q for one key row (halves, or the same widened to f32) with the half-rounded
 * query (f32, zero-padded to 16): tinyBLAS (kTiled, headDim % 16 == 0: one 16-lane accumulator)
 * or ggml_vec_dot_f16 (4 × 16 lanes over the first headDim & ~63 values, folded (a0+a2)+(a1+a3)).
 * Their reduceAdd16 is the dot's f32 part.
 */
template <bool kTiled, typename T>
__attribute__((always_inline)) inline __m512 keyLanes(const T* k, const float* query, int64_t headDim) {
  if (kTiled) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < headDim; i += 16) acc = _mm512_fmadd_ps(load16(k + i, 0xffff), _mm512_loadu_ps(query + i), acc);
    return acc;
  }
  const int64_t np = headDim & ~int64_t(63);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < np; i += 64) {
    a0 = _mm512_fmadd_ps(load16(k + i, 0xffff), _mm512_loadu_ps(query + i), a0);
    a1 = _mm512_fmadd_ps(load16(k + i + 16, 0xffff), _mm512_loadu_ps(query + i + 16), a1);
    a2 = _mm512_fmadd_ps(load16(k + i + 32, 0xffff), _mm512_loadu_ps(query + i + 32), a2);
    a3 = _mm512_fmadd_ps(load16(k + i + 48, 0xffff), _mm512_loadu_ps(query + i + 48), a3);
  }
  return _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
}

/** K·Q of one key row (halves) with the half-rounded query: the lanes reduced, vec_dot leftovers in double. */
__attribute__((always_inline)) inline float keyDot(const uint16_t* k, const float* query, int64_t headDim, bool tiled) {
  if (tiled) return reduceAdd16(keyLanes<true>(k, query, headDim));
  double s = reduceAdd16(keyLanes<false>(k, query, headDim));
  for (int64_t i = headDim & ~int64_t(63); i < headDim; i++) s += double(halfToF32(k[i])) * double(query[i]);
  return float(s);
}

/**
 * reduceAdd16 of 16 vectors at once (a transposing butterfly): each step pairs two vectors, moves
 * the halves to be added into two shuffled vectors and adds them with ONE vertical add that makes
 * partial sums of both inputs, each exactly the f32 addition reduceAdd16 performs for that input
 * (operands possibly swapped, which is exact): 8 adds t = x[i] + x[i+8] (256-bit halves), 4 adds
 * u = t[i] + t[i+4] (128-bit quarters), 2 adds (u0 + u2, u1 + u3), 1 add of those two. The inputs
 * go in at slot kSlot[key] (bits 0↔1 and 2↔3 swapped), so that output lane k is key k's reduceAdd16.
 */
constexpr int kSlot[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};

inline __m512 reduceAdd16x16(const __m512* x) {
  __m512 t[8], u[4], v[2];
  for (int i = 0; i < 8; i++) {  // t[i] = [t(x[i]) | t(x[i+8])]
    t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[i], x[i + 8], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(x[i], x[i + 8], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  for (int i = 0; i < 4; i++) {  // u[i] = [u(x[i]), u(x[i+8]), u(x[i+4]), u(x[i+12])], 4 floats each
    u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(t[i], t[i + 4], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(t[i], t[i + 4], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  for (int i = 0; i < 2; i++) {  // per 128-bit quarter q: [u0+u2, u1+u3] of u[i]'s input q, then of u[i+2]'s
    v[i] = _mm512_add_ps(_mm512_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // per quarter q: (u0+u2) + (u1+u3) of the inputs u[0], u[2], u[1], u[3] of quarter q
  return _mm512_add_ps(_mm512_shuffle_ps(v[0], v[1], _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(v[0], v[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

/**
 * scores[0..16) = keyDot of the 16 key rows k + l·stride: the same lane FMAs (and vec_dot fold) per
 * key, the 16 horizontal reductions as one reduceAdd16x16, the double leftovers per key.
 */
template <int64_t kHeadDim, typename T>  // kHeadDim 0: any, given by headDim
inline void keyDots16(const T* k, int64_t stride, const float* query, int64_t headDimAny, bool tiled, float* scores) {
  const int64_t headDim = kHeadDim ? kHeadDim : headDimAny;
  __m512 lanes[16];
  const int64_t np = tiled ? headDim : headDim & ~int64_t(63);
  if (tiled) {
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) lanes[kSlot[l]] = keyLanes<true>(k + l * stride, query, headDim);
  } else {
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) lanes[kSlot[l]] = keyLanes<false>(k + l * stride, query, headDim);
  }
  _mm512_storeu_ps(scores, reduceAdd16x16(lanes));
  if (np == headDim) return;
  for (int l = 0; l < 16; l++) {  // vec_dot leftovers: double(f32 sum) + Σ products in double, as keyDot
    const T* kl = k + l * stride;
    double s = scores[l];
    for (int64_t i = np; i < headDim; i++) s += double(valueAt(kl + i)) * double(query[i]);
    scores[l] = float(s);
  }
}

/**
 * KQV for lanes lane0 .. lane0 + 15 (of nLanes = step) and the 16 V columns at `v` (mask: the
 * columns < headDim): the 16 lane accumulators stay in registers over the keys j = lane0 + l
 * (+ step, ...) < jEnd, taken in increasing j as the per-key loop did (one FMA per key and lane),
 * and are stored once (lane l at acc + l·ldAcc). They start from zero or, to continue over a
 * further block of keys (whose first key is a multiple of step, so key j stays in lane j mod step),
 * from acc.
 */
template <typename T>
inline void kqvLanes16(const T* v, int64_t stride, const float* probs, int64_t lane0, int64_t jEnd, int64_t step, __mmask16 mask,
                       float* acc, int64_t ldAcc, bool resume) {
  __m512 a[16];
  for (int l = 0; l < 16; l++) a[l] = resume ? _mm512_loadu_ps(acc + l * ldAcc) : _mm512_setzero_ps();
  int64_t j0 = lane0;
  for (; j0 + 16 <= jEnd; j0 += step) {
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) a[l] = _mm512_fmadd_ps(load16(v + (j0 + l) * stride, mask), _mm512_set1_ps(probs[j0 + l]), a[l]);
  }
  if (j0 < jEnd) {  // the last, partial group of keys
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) {
      if (j0 + l < jEnd) a[l] = _mm512_fmadd_ps(load16(v + (j0 + l) * stride, mask), _mm512_set1_ps(probs[j0 + l]), a[l]);
    }
  }
  for (int l = 0; l < 16; l++) _mm512_storeu_ps(acc + l * ldAcc, a[l]);
}

/**
 * KQV of one lane l (of step) for kN × 16 outputs (V columns at v, those < nColumns real): out[0 ..
 * 16·kN) ← Σ over its keys j = l, l + step, … < jEnd, in increasing j, of v[j·stride + d]·probs[j],
 * one FMA per key from zero: the accumulators kqvLanes16 keeps for that lane, kept in registers
 * over a whole V row instead of one 16-column slice of 16 rows. With `next`, the same rows of the
 * next head (its V columns) are prefetched into L2 as these are read.
 */
template <int kN>
inline void kqvLaneN(const uint16_t* v, int64_t stride, const float* probs, int64_t l, int64_t jEnd, int64_t step, int64_t nColumns, float* out,
                     const uint16_t* next) {
  __m512 a[kN];
  __mmask16 m[kN];
  for (int c = 0; c < kN; c++) a[c] = _mm512_setzero_ps(), m[c] = tailMask(nColumns - 16 * c);
  for (int64_t j = l; j < jEnd; j += step) {
    if (next) {
      for (int c = 0; c < kN; c += 2) _mm_prefetch(reinterpret_cast<const char*>(next + j * stride + 16 * c), _MM_HINT_T1);
    }
    const __m512 pj = _mm512_set1_ps(probs[j]);
#pragma GCC unroll 8
    for (int c = 0; c < kN; c++) a[c] = _mm512_fmadd_ps(loadHalves(v + j * stride + 16 * c, m[c]), pj, a[c]);
  }
  for (int c = 0; c < kN; c++) _mm512_storeu_ps(out + 16 * c, a[c]);
}

/** kqvLaneN for nChunks = 1 … 8 (16 outputs each). */
inline void kqvLane(int64_t nChunks, const uint16_t* v, int64_t stride, const float* probs, int64_t l, int64_t jEnd, int64_t step, int64_t nColumns,
                    float* out, const uint16_t* next = nullptr) {
  switch (nChunks) {
    case 8: return kqvLaneN<8>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 7: return kqvLaneN<7>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 6: return kqvLaneN<6>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 5: return kqvLaneN<5>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 4: return kqvLaneN<4>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 3: return kqvLaneN<3>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    case 2: return kqvLaneN<2>(v, stride, probs, l, jEnd, step, nColumns, out, next);
    default: return kqvLaneN<1>(v, stride, probs, l, jEnd, step, nColumns, out, next);
  }
}

/**
 * KQV of 4 heads (probabilities probs[h·ldProbs + j]) for headDim 64, over the n widened V rows of
 * a block (key j at block + j·64, the block's first key a multiple of step): for each lane l <
 * step, the 4 heads × 4 column vectors of lane l stay in registers over the keys j ≡ l (mod step)
 * in increasing j, one FMA per key, head and column, as kqvLanes16 does for each head alone; each
 * V vector is loaded once for the 4 heads. acc[h·ldAcc + l·64 + d]: from zero or (resume) continued.
 */
inline void kqvHeads4(const float* block, int64_t n, const float* probs, int64_t ldProbs, int64_t step, float* acc, int64_t ldAcc, bool resume) {
  for (int64_t l = 0; l < step; l++) {
    __m512 a[4][4];
    for (int i = 0; i < 16; i++) a[i / 4][i % 4] = resume ? _mm512_loadu_ps(acc + i / 4 * ldAcc + l * 64 + i % 4 * 16) : _mm512_setzero_ps();
    for (int64_t j = l; j < n; j += step) {
      const __m512 v0 = _mm512_loadu_ps(block + j * 64), v1 = _mm512_loadu_ps(block + j * 64 + 16);
      const __m512 v2 = _mm512_loadu_ps(block + j * 64 + 32), v3 = _mm512_loadu_ps(block + j * 64 + 48);
#pragma GCC unroll 4
      for (int h = 0; h < 4; h++) {
        const __m512 ph = _mm512_set1_ps(probs[h * ldProbs + j]);
        a[h][0] = _mm512_fmadd_ps(v0, ph, a[h][0]);
        a[h][1] = _mm512_fmadd_ps(v1, ph, a[h][1]);
        a[h][2] = _mm512_fmadd_ps(v2, ph, a[h][2]);
        a[h][3] = _mm512_fmadd_ps(v3, ph, a[h][3]);
      }
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(acc + i / 4 * ldAcc + l * 64 + i % 4 * 16, a[i / 4][i % 4]);
  }
}

/**
 * In place: x[0..n) ← softmax(scale · x) with ggml's f32 steps, then rounded to half (the
 * probabilities as KQV reads them), in the pass of the final multiply; lanes past n are not touched.
 */
__attribute__((always_inline)) inline void softmaxScaledToHalf(float* x, int64_t n, float scale) {
  const __m512 vscale = _mm512_set1_ps(scale);
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 m = tailMask(n - c);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), vscale);
    _mm512_mask_storeu_ps(x + c, m, v);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  double sum = 0;
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 m = tailMask(n - c);
    const __m512 e = _mm512_maskz_mov_ps(m, expf16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + c), max)));
    _mm512_mask_storeu_ps(x + c, m, e);
    sum += reduceAdd16(e);
  }
  const __m512 inv = _mm512_set1_ps(float(1.0 / sum));
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 m = tailMask(n - c);
    _mm512_mask_storeu_ps(x + c, m, roundToHalf(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), inv)));
  }
}

/** query f32 [headDimPadded] ← qRow [headDim] rounded to half, zero-padded */
inline void roundQuery(const float* qRow, int64_t headDim, float* query) {
  const int64_t headDimPadded = (headDim + 15) & ~int64_t(15);
  for (int64_t d = 0; d < headDimPadded; d += 16) {
    _mm512_storeu_ps(query + d, roundToHalf(_mm512_maskz_loadu_ps(tailMask(headDim - d), qRow + d)));
  }
}

/**
 * One head's output row from its KQV lane accumulators acc [64][headDimPadded] (16 lanes when
 * tiled, else 64 folded (l + l+32) + (l+16 + l+48)), reduced as _mm512_reduce_add_ps, then the
 * vec_dot leftovers jLanes .. nVisible - 1 in double. values: the head's V column 0, rows nKv apart.
 */
inline void finishHead(const float* acc, const HeadShape& s, const float* probs, const uint16_t* values, float* outRow) {
  const int64_t headDimPadded = s.headDimPadded;
  for (int64_t d = 0; d < headDimPadded; d += 16) {
    __m512 lanes[16];
    for (int l = 0; l < 16; l++) {
      const float* a = acc + l * headDimPadded + d;
      lanes[l] = s.kqvTiled ? _mm512_loadu_ps(a)
                            : _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(a + 32 * headDimPadded)),
                                            _mm512_add_ps(_mm512_loadu_ps(a + 16 * headDimPadded), _mm512_loadu_ps(a + 48 * headDimPadded)));
    }
    _mm512_mask_storeu_ps(outRow + d, tailMask(s.headDim - d), reduceAdd16Rows(lanes));
  }
  if (s.jLanes < s.nVisible) {  // vec_dot leftovers (n_kv capped at a size that is not a multiple of 64): in double
    for (int64_t d = 0; d < s.headDim; d++) {
      double sum = outRow[d];
      for (int64_t j = s.jLanes; j < s.nVisible; j++) sum += double(halfToF32(values[j * s.nKv + d])) * double(probs[j]);
      outRow[d] = float(sum);
    }
  }
}

/**
 * Prefetches (into L1, or L2) nRows cache rows of one head, headDim halves each, `stride` halves
 * apart: an 8 KiB stride for a 7B shape without GQA, which the hardware prefetchers do not follow
 * (decode attention at depth 150: 250 → 223 µs per layer, 4 of 4 alternating runs).
 */
template <bool kToL1>
inline void prefetchRows(const uint16_t* rows, int64_t stride, int64_t nRows, int64_t headDim) {
  for (int64_t r = 0; r < nRows; r++) {
    const char* row = reinterpret_cast<const char*>(rows + r * stride);
    for (int64_t b = 0; b < headDim * 2; b += 64) kToL1 ? _mm_prefetch(row + b, _MM_HINT_T0) : _mm_prefetch(row + b, _MM_HINT_T1);
  }
}
/** K rows prefetched ahead of the K·Q being computed */
constexpr int64_t kPrefetchRows = 32;
/** V rows prefetched before the softmax: at most what L2 holds besides (256 KiB of headDim 128) */
constexpr int64_t kPrefetchValueRows = 1024;

}  // namespace attn
}  // namespace avx512
}  // namespace x86
}  // namespace ls
