// Row kernels with AVX-512 (built into the AVX-512 library, run only on CPUs that have it):
// SwiGLU with the real ggml_v_silu / ggml_v_expf intrinsics of llama.cpp's AVX-512 build on each
// whole 16-value chunk; the tail and RoPE are ops_rows.inc compiled with FMA.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ops.h"

namespace ls {
namespace {

#include "ops_rows.inc"

/** ggml_v_expf (vec.h, AVX-512): ggml's range reduction and polynomial; |n| > 192 saturates. */
inline __m512 expf16(__m512 x) {
  const __m512 r = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
  const __m512 n = _mm512_sub_ps(z, r);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __mmask16 saturated = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 poly = _mm512_fmadd_ps(
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                      _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
      u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
  const __m512 result = _mm512_scalef_ps(poly, n);
  if (saturated == 0) return result;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 limit = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(INFINITY), zero);
  return _mm512_mask_blend_ps(saturated, result, limit);
}

/** ggml_v_silu (vec.h, AVX-512): x / (1 + ggml_v_expf(0 − x)). */
inline __m512 silu16(__m512 x) {
  const __m512 negX = _mm512_sub_ps(_mm512_setzero_ps(), x);
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), expf16(negX)));
}

/** ggml_vec_swiglu_f32 (AVX-512 build): whole chunks with intrinsics, the rest in scalar. */
void siluMulRow(float* gate, const float* up, int64_t n) {
  const int64_t simd = n & ~int64_t(15);
  for (int64_t i = 0; i < simd; i += 16) {
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu16(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
  }
  siluMulTail(gate + simd, up + simd, n - simd);
}

const RowOps kOps = {siluMulRow, ropeTokenLanes};

}  // namespace

const RowOps* avx512RowOps() { return &kOps; }

}  // namespace ls
