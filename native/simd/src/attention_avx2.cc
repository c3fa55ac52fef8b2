// Attention for the AVX2 path (built with -mavx2 -mfma -mf16c; run only on CPUs that have them):
// attention_lanes.inc compiled with FMA, which GCC vectorizes into ymm lanes, with F16C half
// conversions (vcvtph2ps is exact; vcvtps2ph rounds to nearest even like blocks.h). Same results
// as every other path.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "attention.h"
#include "blocks.h"

namespace ls {
namespace {

#include "ops_rows.inc"

constexpr int kRoundNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

/** n halves widened to f32 (exact). */
inline void halvesToF32(float* dst, const uint16_t* src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

/** x[i] ← f32(half(x[i])), round to nearest even. */
inline void roundToHalfRow(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), kRoundNearest)));
  for (; i < n; i++) x[i] = _cvtsh_ss(_cvtss_sh(x[i], kRoundNearest));
}

#include "attention_lanes.inc"

}  // namespace

AttentionKernel avx2AttentionKernel() { return attentionLanesTask; }

}  // namespace ls
