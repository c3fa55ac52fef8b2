// Row kernels with AVX-512 (built into the AVX-512 library, run only on CPUs that have it):
// SwiGLU with the real ggml_v_silu / ggml_v_expf intrinsics of llama.cpp's AVX-512 build on each
// whole 16-value chunk; the tail and RoPE are generic/ops_lanes.h compiled with FMA; f32 → half
// with vcvtps2ph.
#include <immintrin.h>

#include <cstdint>

#include "generic/ops.h"
#include "generic/ops_lanes.h"
#include "x86/avx512.h"

namespace ls {
namespace x86 {
namespace avx512 {
namespace {

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

/** vcvtps2ph (round to nearest even) on whole 16-value chunks, NaNs made ±0x7e00 as toHalfLane does; the rest lane by lane. */
void toHalfRow(uint16_t* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(src + i);
    __m256i half = _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    if (nan != 0) {
      const __m512i sign = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 16), _mm512_set1_epi32(0x8000));
      const __m256i quiet = _mm256_or_si256(_mm512_cvtepi32_epi16(sign), _mm256_set1_epi16(0x7e00));
      half = _mm256_mask_blend_epi16(nan, half, quiet);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), half);
  }
  toHalfLanes(dst + i, src + i, n - i);
}

const RowOps kOps = {siluMulRow, ropeTokenLanes, toHalfRow};

}  // namespace
}  // namespace avx512
}  // namespace x86

const RowOps* avx512RowOps() { return &x86::avx512::kOps; }

}  // namespace ls
