// Attention over an F16 KV cache with AVX-512 (F + F16C; built into the AVX-512 library, run only
// on CPUs that have it): the arithmetic of the TypeScript reference (src/engine/model/attention.ts),
// i.e. of llama.cpp's non-flash CPU attention in its x86 AVX-512 build, bit for bit:
// - query and probabilities rounded to half (vcvtps2ph, round to nearest even);
// - K·Q: ggml_vec_dot_f16 (4 × 16 FMA lanes per 64 values, folded (a0+a2)+(a1+a3), GCC's
//   _mm512_reduce_add_ps, leftovers in double) or, for batches with headDim % 16 == 0,
//   tinyBLAS (16 FMA lanes, _mm512_reduce_add_ps);
// - softmax: scale, max, ggml_v_expf on 16-value chunks, Σ in double of each chunk's reduce_add,
//   one f32 multiply by f32(1/Σ);
// - KQV over n_kv padded positions: the same two dot shapes over the V columns. Instead of
//   gathering each column, every lane accumulator is kept for all headDim outputs at once
//   (acc[lane][d], lane = position mod 64 or 16): each lane still sees its FMAs in the same order,
//   and the masked (zero) positions past the visible ones, which leave the lanes unchanged, are
//   skipped.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "attention.h"
#include "expf_avx512.h"

namespace ls {
namespace {

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


/** K·Q of one key row (halves) with the half-rounded query (f32, zero-padded to 16). */
inline float keyDot(const uint16_t* k, const float* query, int64_t headDim, bool tiled) {
  if (tiled) {  // headDim % 16 == 0
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < headDim; i += 16) acc = _mm512_fmadd_ps(loadHalves(k + i, 0xffff), _mm512_loadu_ps(query + i), acc);
    return reduceAdd16(acc);
  }
  const int64_t np = headDim & ~int64_t(63);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < np; i += 64) {
    a0 = _mm512_fmadd_ps(loadHalves(k + i, 0xffff), _mm512_loadu_ps(query + i), a0);
    a1 = _mm512_fmadd_ps(loadHalves(k + i + 16, 0xffff), _mm512_loadu_ps(query + i + 16), a1);
    a2 = _mm512_fmadd_ps(loadHalves(k + i + 32, 0xffff), _mm512_loadu_ps(query + i + 32), a2);
    a3 = _mm512_fmadd_ps(loadHalves(k + i + 48, 0xffff), _mm512_loadu_ps(query + i + 48), a3);
  }
  double s = reduceAdd16(_mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3)));
  for (int64_t i = np; i < headDim; i++) s += double(halfToF32(k[i])) * double(query[i]);
  return float(s);
}

/** In place: x[0..n) ← softmax(scale · x) with ggml's f32 steps; lanes past n are not touched. */
inline void softmaxScaled(float* x, int64_t n, float scale) {
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
    _mm512_mask_storeu_ps(x + c, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), inv));
  }
}

void attentionTask(const AttentionProblem& p, int64_t t, int64_t h, float* scratch) {
  const int64_t headDim = p.headDim;
  const int64_t headDimPadded = (headDim + 15) & ~int64_t(15);
  const int64_t nQ = p.nHead * headDim;
  const int64_t nKv = p.nHeadKv * headDim;
  const int64_t kvOffset = h / (p.nHead / p.nHeadKv) * headDim;
  const int64_t nVisible = p.position + t + 1;
  const bool batch = p.nTokens >= 2;
  const bool kqTiled = batch && headDim % 16 == 0;
  const bool kqvTiled = batch && headDim % 4 == 0 && p.nKvPadded % 16 == 0;

  float* scores = scratch;                                       // [nKvPadded rounded up to 16]
  float* query = scores + ((p.nKvPadded + 15) & ~int64_t(15));   // [headDimPadded]
  float* acc = query + headDimPadded;                            // [64][headDimPadded]

  const float* qRow = p.q + t * nQ + h * headDim;
  for (int64_t d = 0; d < headDimPadded; d += 16) {
    _mm512_storeu_ps(query + d, roundToHalf(_mm512_maskz_loadu_ps(tailMask(headDim - d), qRow + d)));
  }
  for (int64_t j = 0; j < nVisible; j++) scores[j] = keyDot(p.keys + j * nKv + kvOffset, query, headDim, kqTiled);

  softmaxScaled(scores, nVisible, p.scale);
  for (int64_t c = 0; c < nVisible; c += 16) {
    const __mmask16 m = tailMask(nVisible - c);
    _mm512_mask_storeu_ps(scores + c, m, roundToHalf(_mm512_maskz_loadu_ps(m, scores + c)));
  }
  const float* probs = scores;

  // KQV: lane accumulators for all outputs at once
  const int64_t nLanes = kqvTiled ? 16 : 64;
  const int64_t np = kqvTiled ? p.nKvPadded : p.nKvPadded & ~int64_t(63);
  const int64_t jLanes = std::min(nVisible, np);
  std::memset(acc, 0, sizeof(float) * nLanes * headDimPadded);
  for (int64_t j = 0; j < jLanes; j++) {
    const __m512 pj = _mm512_set1_ps(probs[j]);
    const uint16_t* v = p.values + j * nKv + kvOffset;
    float* a = acc + (j & (nLanes - 1)) * headDimPadded;
    for (int64_t d = 0; d < headDimPadded; d += 16) {
      _mm512_storeu_ps(a + d, _mm512_fmadd_ps(loadHalves(v + d, tailMask(headDim - d)), pj, _mm512_loadu_ps(a + d)));
    }
  }
  float* outRow = p.out + t * nQ + h * headDim;
  for (int64_t d = 0; d < headDimPadded; d += 16) {
    __m512 lanes[16];
    for (int l = 0; l < 16; l++) {
      const float* a = acc + l * headDimPadded + d;
      lanes[l] = kqvTiled ? _mm512_loadu_ps(a)
                          : _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(a + 32 * headDimPadded)),
                                          _mm512_add_ps(_mm512_loadu_ps(a + 16 * headDimPadded), _mm512_loadu_ps(a + 48 * headDimPadded)));
    }
    _mm512_mask_storeu_ps(outRow + d, tailMask(headDim - d), reduceAdd16Rows(lanes));
  }
  if (jLanes < nVisible) {  // vec_dot leftovers (n_kv capped at a size that is not a multiple of 64): in double
    for (int64_t d = 0; d < headDim; d++) {
      double s = outRow[d];
      for (int64_t j = jLanes; j < nVisible; j++) s += double(halfToF32(p.values[j * nKv + kvOffset + d])) * double(probs[j]);
      outRow[d] = float(s);
    }
  }
}

}  // namespace

AttentionKernel avx512AttentionKernel() { return attentionTask; }

}  // namespace ls
