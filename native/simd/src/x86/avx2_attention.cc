// Attention for the AVX2 path (built with -mavx2 -mfma -mf16c; run only on CPUs that have them):
// the portable kernel (generic/attention_lanes.h) compiled with FMA, which GCC vectorizes into ymm
// lanes, with F16C half conversions (vcvtph2ps is exact; vcvtps2ph rounds to nearest even like
// f32ToF16). Same results as every other path.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "generic/attention.h"
#include "generic/attention_lanes.h"
#include "generic/flash_lanes.h"
#include "generic/ops_lanes.h"

namespace ls {
namespace {

constexpr int kRoundNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

/** The half conversions of the AVX2 build (F16C), for attentionLanesTask. */
struct F16cHalves {
  /** n halves widened to f32 (exact). */
  static void widen(float* dst, const uint16_t* src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
  }

  /** x[i] ← f32(half(x[i])), round to nearest even. */
  static void roundToHalf(float* x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), kRoundNearest)));
    for (; i < n; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i], kRoundNearest));
  }

  /** acc[i] ← half(acc[i] · v) (ggml_vec_scale_f16 with acc kept as f32 values of halves). */
  static void scaleToHalf(float* acc, float v, int64_t n) {
    const __m256 vv = _mm256_set1_ps(v);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(acc + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(acc + i), vv), kRoundNearest)));
    for (; i < n; i++) acc[i] = _cvtsh_ss(_cvtss_sh(acc[i] * v, kRoundNearest));
  }

  /** acc[i] ← half(fma(widen(x[i]), v, acc[i])) (ggml_vec_mad_f16). */
  static void madToHalf(float* acc, const uint16_t* x, float v, int64_t n) {
    const __m256 vv = _mm256_set1_ps(v);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
      _mm256_storeu_ps(acc + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_fmadd_ps(xv, vv, _mm256_loadu_ps(acc + i)), kRoundNearest)));
    }
    for (; i < n; i++) acc[i] = _cvtsh_ss(_cvtss_sh(std::fmaf(_cvtsh_ss(x[i]), v, acc[i]), kRoundNearest));
  }

  static float toF32(uint16_t h) { return _cvtsh_ss(h); }
  static float expf(float x) { return ggmlExpfLane(x); }
};

}  // namespace

AttentionKernel avx2AttentionKernel() { return lanes::attentionLanesTask<F16cHalves>; }
FlashKernel avx2FlashKernel() { return flash::flashLanesRows<F16cHalves>; }

}  // namespace ls
